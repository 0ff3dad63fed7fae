"""Account writes: sign-up, verification, e-mail and password changes, API tokens.

Closing an account is a data right and lives with the others (the privacy app's rights.user_close), above this
app: accounts never reaches up for it."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from intaglio.accounts.emails import send_account_email
from intaglio.accounts.models import ApiToken, SignInLink, User, normalize_email
from intaglio.accounts.tokens import (
    address_fingerprint,
    email_verification_tokens,
    make_email_change_token,
    read_email_change_token,
)
from intaglio.core.audit import audit_record
from intaglio.core.hotreads import HotRead, selected
from intaglio.core.ratelimit import rate_hit
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


def sign_in_link_send(*, email: str, ip: str) -> None:
    """E-mails a one-time sign-in link to an active account's address: the way in for the owner while password
    sign-in to the account is paused by attempts from elsewhere.

    The caller answers the same whatever happens (no account, capped, throttled), so it reveals nothing. Links are
    throttled per network address (SIGN_IN_LINKS_PER_IP_PER_HOUR) and share the address's hourly e-mail cap.
    """
    email = normalize_email(email)
    client = hashlib.sha256(ip.encode()).hexdigest()[:24]
    if not rate_hit(f"sign-in-link:ip:{client}", limit=settings.SIGN_IN_LINKS_PER_IP_PER_HOUR, window=3600).allowed:
        log.warning("sign_in_link.throttled", extra={"subject": client})
        return
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        return
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    SignInLink.objects.filter(user=user, expires_at__lt=now).delete()  # spent history is in the audit log
    link = SignInLink.objects.create(
        user=user,
        digest=_token_digest(raw),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SIGN_IN_LINK_SECONDS),
    )
    audit_record(
        action="account.sign_in_link_sent", target_type="sign_in_link", target_id=link.pk, subject_user_id=user.pk
    )
    send_account_email(
        to=user.email,
        template="sign_in_link",
        context={
            "link": _absolute(reverse("sign-in-link-use", kwargs={"token": raw})),
            "minutes": settings.SIGN_IN_LINK_SECONDS // 60,
        },
    )


def sign_in_link_use(*, token: str) -> User:
    """Spends a sign-in link (once, before it expires) and returns its account; raises AccountError otherwise.

    Following the link proves the address, so an unconfirmed one is confirmed, as with a password reset.
    """
    now = timezone.now()
    link = SignInLink.objects.select_related("user").filter(digest=_token_digest(token)).first()
    # The conditional update is the single use: of two simultaneous clicks only one changes the row.
    spent = (
        link is not None
        and link.user.is_active
        and SignInLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now) == 1
    )
    if not spent:
        raise AccountError("This log-in link is invalid, has expired or was already used. Ask for a new one below.")
    user = link.user
    if user.email_verified_at is None:
        user.email_verified_at = now
        user.save(update_fields=["email_verified_at"])
    audit_record(action="account.sign_in_link_used", actor=user, target_type="sign_in_link", target_id=link.pk)
    log.info("account.sign_in_link_used", extra={"user_id": user.pk})
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


# Every API call checks its token: one indexed, precompiled read (the digest is unique) that brings the user along.
_TOKEN_FIELDS = selected(ApiToken, "id", "last_used_at")
_USER_FIELDS = selected(User)
_TOKEN_USER = HotRead(
    f'SELECT {_TOKEN_FIELDS.columns("t")}, {_USER_FIELDS.columns("u")} FROM "{ApiToken._meta.db_table}" t '  # noqa: S608
    f'JOIN "{User._meta.db_table}" u ON u."id" = t."user_id" '
    'WHERE t."digest" = %s AND t."revoked_at" IS NULL AND u."is_active"',
    [_TOKEN_FIELDS, _USER_FIELDS],
)


def api_token_authenticate(*, raw: str) -> User | None:
    """The active user a token belongs to, or None; records when the token was last used."""
    if not raw.startswith(API_TOKEN_PREFIX):
        return None
    found = _TOKEN_USER.run([_token_digest(raw)])
    if not found:
        return None
    ((token, user),) = found
    now = timezone.now()
    # Write at most once a minute per token, not on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user
