"""API authentication: a personal token (Bearer) or the browser session (with its CSRF token)."""

from __future__ import annotations

from ninja.security import HttpBearer

from intaglio.accounts.services import api_token_authenticate


class BearerToken(HttpBearer):
    openapi_description = "A personal API token from Account settings: `Authorization: Bearer itg_…`."

    def authenticate(self, request, token):
        user = api_token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user

