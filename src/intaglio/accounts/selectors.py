"""Account reads."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from intaglio.accounts.models import ApiToken, User


def user_from_uidb64(*, uidb64: str) -> User | None:
    """The user an e-mailed link names (its base64 user id); None when the id is not readable or not a user."""
    try:
        return User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        return None


def user_active_by_email(*, email: str) -> User | None:
    return User.objects.filter(email=email, is_active=True).first()


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True)


def api_token_get(*, user: User, token_id: int) -> ApiToken | None:
    return api_token_list(user=user).filter(pk=token_id).first()
