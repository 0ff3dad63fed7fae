"""Account writes: sign-up, verification, e-mail and password changes, API tokens.

Closing an account is a data right and lives with the others (the privacy app's rights.user_close), above this
app: accounts never reaches up for it."""

from __future__ import annotations

import hashlib
import logging
import secrets

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from intaglio.accounts.emails import send_account_email
from intaglio.accounts.models import ApiToken, User, normalize_email
from intaglio.accounts.tokens import (
    address_fingerprint,
    email_verification_tokens,
    make_email_change_token,
    read_email_change_token,
)
from intaglio.credits.services import credits_grant_monthly

log = logging.getLogger("intaglio.accounts")

API_TOKEN_PREFIX = "itg_"


class AccountError(Exception):
    """A user-facing refusal; the message is safe to show."""


def _absolute(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


def user_sign_up(*, email: str, password: str) -> User | None:
    """Creates an unverified account and e-mails its verification link.

    An address that already has an account gets a note instead of a second account, and the caller sees
    the same outcome either way, so sign-up does not reveal who has an account.
    """
    email = normalize_email(email)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password)
            # The first month's allowance at once; the scheduler's hourly grant covers the months after.
            credits_grant_monthly(user=user, period=f"{timezone.now():%Y-%m}")
    except IntegrityError:
        send_account_email(to=email, template="already_registered", context={"login_url": _absolute(reverse("login"))})
        return None
    user_send_verification(user=user)
    log.info("account.signed_up", extra={"user_id": user.pk})
    return user


def user_send_verification(*, user: User) -> None:
    if user.email_verified or not user.is_active:
        return
    path = reverse(
        "verify-email",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": email_verification_tokens.make_token(user),
        },
    )
    send_account_email(to=user.email, template="verify", context={"link": _absolute(path)})


def user_verify_email(*, user: User, token: str) -> None:
    if user.email_verified:
        return
    if not user.is_active or not email_verification_tokens.check_token(user, token):
        raise AccountError("This verification link is invalid or has expired. Ask for a new one below.")
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    log.info("account.email_verified", extra={"user_id": user.pk})


def user_request_email_change(*, user: User, new_email: str, password: str) -> None:
    """Sends a confirmation link to the new address; nothing changes until it is followed."""
    new_email = normalize_email(new_email)
    if not user.check_password(password):
        raise AccountError("Your current password is not correct.")
    if new_email == user.email:
        raise AccountError("That is already your e-mail address.")
    if User.objects.filter(email=new_email).exists():
        # Same outcome as success: the address's owner is told, the requester learns nothing.
        send_account_email(
            to=new_email, template="already_registered", context={"login_url": _absolute(reverse("login"))}
        )
        return
    path = reverse("email-change-confirm", kwargs={"token": make_email_change_token(user=user, new_email=new_email)})
    send_account_email(to=new_email, template="email_change", context={"link": _absolute(path)})


def user_confirm_email_change(*, token: str) -> User:
    invalid = AccountError("This confirmation link is invalid or has expired. Ask for a new one in settings.")
    try:
        user_id, new_email, fingerprint = read_email_change_token(token)
    except signing.BadSignature:
        raise invalid from None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or address_fingerprint(user.email) != fingerprint:
        raise invalid
    old_email = user.email
    user.email = new_email
    user.email_verified_at = timezone.now()
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_verified_at"])
    except IntegrityError:
        raise AccountError("That e-mail address now belongs to another account.") from None
    send_account_email(to=old_email, template="email_changed", context={})
    log.info("account.email_changed", extra={"user_id": user.pk})
    return user


def user_change_password(*, user: User, new_password: str) -> None:
    """Sets a new password; every other session ends because the session hash follows the password."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    send_account_email(to=user.email, template="password_changed", context={})
    log.info("account.password_changed", extra={"user_id": user.pk})


def _token_digest(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is as safe as a slow one and keeps lookups cheap.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the stored token and its secret, which exists nowhere else after this call."""
    name = name.strip()
    if not name:
        raise ValidationError("Give the token a name, such as the program that will use it.")
    raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:80], prefix=raw[:12], digest=_token_digest(raw))
    log.info("api_token.created", extra={"user_id": user.pk, "token_id": token.pk})
    return token, raw


def api_token_revoke(*, user: User, token_id: int) -> bool:
    revoked = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        log.info("api_token.revoked", extra={"user_id": user.pk, "token_id": token_id})
    return bool(revoked)


def api_token_authenticate(*, raw: str) -> User | None:
    """The active user a token belongs to, or None; records when the token was last used."""
    if not raw.startswith(API_TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_token_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Write at most once a minute per token, not on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
