"""The API's rate limit: exact, per token (per session for the web app, per address when anonymous).

Counted atomically in intaglio.core.ratelimit, so parallel clients cannot slip past it. The counted hit rides on the
request, and ApiErrorShapeMiddleware puts it in the answer's X-RateLimit-* headers (Retry-After on a 429), as
GitHub's API does: Limit, Remaining, and Reset in epoch seconds.
"""

from __future__ import annotations

import hashlib
import threading

from django.conf import settings
from ninja.throttling import BaseThrottle

from intaglio.core.ratelimit import RateHit, rate_hit, rate_parse
from intaglio.ops.middleware import client_ip

# Set by BearerToken on a request it authenticated: the digest that names the token's budget.
TOKEN_SUBJECT_ATTR = "rate_limit_token"


def _subject(request) -> str:
    token = getattr(request, TOKEN_SUBJECT_ATTR, None)
    if token:
        return f"token:{token}"
    session_key = request.session.session_key if hasattr(request, "session") else None
    if session_key and request.user.is_authenticated:
        return "session:" + hashlib.sha256(session_key.encode()).hexdigest()[:32]
    return "ip:" + hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]


class ExactRateThrottle(BaseThrottle):
    """settings.API_RATE (e.g. "600/m") per token, session or address, counted before the operation runs."""

    def __init__(self):
        # Ninja asks wait() right after allow_request() on the same thread; the object is shared by all threads.
        self._local = threading.local()

    def allow_request(self, request) -> bool:
        limit, window = rate_parse(settings.API_RATE)
        hit = rate_hit(f"api:{_subject(request)}", limit=limit, window=window)
        request.rate_limit = hit
        self._local.wait = None if hit.allowed else hit.retry_after()
        return hit.allowed

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


def rate_limit_headers(hit: RateHit) -> dict[str, str]:
    """The X-RateLimit-* headers of an answer whose request counted `hit`."""
    headers = {
        "X-RateLimit-Limit": str(hit.limit),
        "X-RateLimit-Remaining": str(hit.remaining),
        "X-RateLimit-Reset": str(int(hit.reset_at)),
    }
    if not hit.allowed:
        headers["Retry-After"] = str(hit.retry_after())
    return headers
