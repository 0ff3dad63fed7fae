"""Failed-login throttling per account and per client address, shared by every web process (cache in DB).

Each key keeps the times of its recent failures (a sliding window), so "10 failures in a minute" means
exactly that whatever the clock boundary.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger("intaglio.security")


class LoginThrottled(Exception):
    def __init__(self, *, scope: str, retry_after: int):
        super().__init__(scope, retry_after)
        self.scope = scope  # "account" or "ip"
        self.retry_after = retry_after  # seconds

    def __str__(self) -> str:
        who = "this account" if self.scope == "account" else "your network address"
        return (
            f"Too many failed log-in attempts for {who}. "
            f"For your security, try again in {self.retry_after} seconds, or reset your password."
        )


def _clock() -> float:
    return time.time()


def _digest(value: str) -> str:
    # Keys and log lines carry a digest, never the e-mail address itself.
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def _keys(*, email: str, ip: str) -> list[tuple[str, str, int]]:
    return [
        ("account", f"login-fail:acct:{_digest(email.strip().lower())}", settings.LOGIN_FAILURES_PER_ACCOUNT),
        ("ip", f"login-fail:ip:{_digest(ip)}", settings.LOGIN_FAILURES_PER_IP),
    ]


def _recent(key: str, now: float) -> list[float]:
    window = settings.LOGIN_THROTTLE_WINDOW
    return [t for t in cache.get(key, []) if t > now - window]


def login_throttle_check(*, email: str, ip: str) -> None:
    """Raises LoginThrottled (and logs it) when the account or the address has used up its failures."""
    now = _clock()
    for scope, key, limit in _keys(email=email, ip=ip):
        recent = _recent(key, now)
        if len(recent) >= limit:
            retry_after = max(1, math.ceil(recent[-limit] + settings.LOGIN_THROTTLE_WINDOW - now))
            log.warning(
                "login.throttled",
                extra={"scope": scope, "subject": key.rsplit(":", 1)[1], "retry_after": retry_after},
            )
            raise LoginThrottled(scope=scope, retry_after=retry_after)


def login_failure_record(*, email: str, ip: str) -> None:
    now = _clock()
    for _scope, key, limit in _keys(email=email, ip=ip):
        recent = _recent(key, now)[-limit:] + [now]
        cache.set(key, recent, timeout=settings.LOGIN_THROTTLE_WINDOW)
    log.info("login.failed", extra={"subject": _digest(email.strip().lower())})


def login_success_record(*, email: str) -> None:
    cache.delete(_keys(email=email, ip="")[0][1])
