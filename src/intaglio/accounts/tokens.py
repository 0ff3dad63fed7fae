"""One-time links sent by e-mail: verification of a new account and confirmation of a new address."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Like password-reset tokens, but spent once the address is verified."""

    key_salt = "intaglio.accounts.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.email}{user.email_verified_at}{timestamp}"


email_verification_tokens = EmailVerificationTokenGenerator()

_EMAIL_CHANGE_SALT = "intaglio.accounts.email-change"


def address_fingerprint(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def make_email_change_token(*, user, new_email: str) -> str:
    # Bound to the current address, so the link dies once any change has gone through.
    return signing.dumps({"u": user.pk, "e": new_email, "f": address_fingerprint(user.email)}, salt=_EMAIL_CHANGE_SALT)


def read_email_change_token(token: str) -> tuple[int, str, str]:
    """Returns (user id, new address, fingerprint of the address it was issued for); raises BadSignature."""
    data = signing.loads(token, salt=_EMAIL_CHANGE_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
    return data["u"], data["e"], data["f"]
