"""A way to hand its events to /hooks/stripe/ as Stripe would."""

from __future__ import annotations

import json
import time

from tests.fakes.stripe import sign


def post_event(client, event: dict, *, secret: str = "whsec_fake", timestamp: int | None = None):
    """Delivers one event to the webhook view, signed with `secret` at `timestamp` (now by default)."""
    payload = json.dumps(event).encode()
    header = sign(payload, secret, int(time.time()) if timestamp is None else timestamp)
    return client.post("/hooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
