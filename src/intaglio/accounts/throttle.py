"""Password sign-in throttling, for the site's login form and the admin's alike.

Every attempt is counted before its password is checked, in one atomic step (intaglio.core.ratelimit), so
simultaneous attempts cannot slip past the limit. Three fixed-window limits apply:

- per (account, client address): the tight one, which stops one client guessing one account;
- per client address: one client trying many accounts;
- per account from everywhere: looser, and it pauses only password sign-in. An attacker spread over many
  addresses cannot lock the owner out: the owner can still sign in with an e-mailed one-time link.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings

from intaglio.core.ratelimit import rate_hit, rate_reset

log = logging.getLogger("intaglio.security")

_MESSAGES = {
    "account-client": "Too many failed log-in attempts for this account from your network address.",
    "ip": "Too many failed log-in attempts for your network address.",
    "account": (
        "Too many failed log-in attempts for this account from elsewhere, so password log-in is paused for it. "
        "If it is yours, ask for a one-time log-in link by e-mail below."
    ),
}


class LoginThrottled(Exception):
    def __init__(self, *, scope: str, retry_after: int):
        super().__init__(scope, retry_after)
        self.scope = scope  # "account-client", "ip" or "account"
        self.retry_after = retry_after  # seconds

    def __str__(self) -> str:
        return (
            f"{_MESSAGES[self.scope]} For your security, try again in {self.retry_after} seconds, "
            "or reset your password."
        )


def _digest(value: str) -> str:
    # Keys and log lines carry a digest, never the e-mail address itself.
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def _account(email: str) -> str:
    return _digest(email.strip().lower())


def _keys(*, email: str, ip: str) -> list[tuple[str, str, int]]:
    account, client = _account(email), _digest(ip)
    # In this order: an attempt the pair limit refuses is not counted against the account as a whole.
    return [
        ("account-client", f"login:pair:{account}:{client}", settings.LOGIN_FAILURES_PER_ACCOUNT_CLIENT),
        ("ip", f"login:ip:{client}", settings.LOGIN_FAILURES_PER_IP),
        ("account", f"login:acct:{account}", settings.LOGIN_FAILURES_PER_ACCOUNT),
    ]


def login_attempt_begin(*, email: str, ip: str) -> None:
    """Counts one password attempt; raises LoginThrottled (and logs it) if a limit is used up.

    Call it before checking the password: only attempts it lets through may be checked.
    """
    for scope, key, limit in _keys(email=email, ip=ip):
        hit = rate_hit(key, limit=limit, window=settings.LOGIN_THROTTLE_WINDOW)
        if not hit.allowed:
            retry_after = hit.retry_after()
            log.warning(
                "login.throttled", extra={"scope": scope, "subject": _account(email), "retry_after": retry_after}
            )
            raise LoginThrottled(scope=scope, retry_after=retry_after)


def login_failure_record(*, email: str) -> None:
    log.info("login.failed", extra={"subject": _account(email)})


def login_success_record(*, email: str, ip: str) -> None:
    """The owner got in from this client: its own failed attempts are forgotten (the account-wide count stays)."""
    rate_reset(_keys(email=email, ip=ip)[0][1])
