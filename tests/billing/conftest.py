"""A local Stripe wired into settings, and a way to hand its events to /hooks/stripe/ as Stripe would."""

from __future__ import annotations

import json
import time

import pytest

from tests.fakes.stripe import FakeStripe, prices_from_settings, sign


@pytest.fixture
def stripe_fake(settings):
    with FakeStripe(prices=prices_from_settings(settings), deliver=False) as fake:
        settings.STRIPE_API_KEY = fake.api_key
        settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
        settings.STRIPE_API_BASE = fake.url
        settings.SUBPROCESSORS = [fake.subprocessor()]
        yield fake


def post_event(client, event: dict, *, secret: str = "whsec_fake", timestamp: int | None = None):
    """Delivers one event to the webhook view, signed with `secret` at `timestamp` (now by default)."""
    payload = json.dumps(event).encode()
    header = sign(payload, secret, int(time.time()) if timestamp is None else timestamp)
    return client.post("/hooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
