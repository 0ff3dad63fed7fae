"""Account reads."""

from __future__ import annotations

from django.db.models import QuerySet

from intaglio.accounts.models import ApiToken, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True)


def api_token_get(*, user: User, token_id: int) -> ApiToken | None:
    return api_token_list(user=user).filter(pk=token_id).first()
