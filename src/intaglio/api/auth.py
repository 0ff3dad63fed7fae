"""API authentication: a personal token (Bearer) or the browser session (with its CSRF token)."""

from __future__ import annotations

import hashlib

from ninja.security import HttpBearer, SessionAuth

from intaglio.accounts.services import api_token_authenticate
from intaglio.api.throttling import TOKEN_SUBJECT_ATTR


class BearerToken(HttpBearer):
    openapi_description = "A personal API token from Account settings: `Authorization: Bearer itg_…`."

    def authenticate(self, request, token):
        user = api_token_authenticate(raw=token)
        if user is not None:
            request.user = user
            # Each token has its own rate budget, as documented, not one shared by the user's tokens.
            setattr(request, TOKEN_SUBJECT_ATTR, hashlib.sha256(token.encode()).hexdigest()[:32])
        return user


class BrowserSession(SessionAuth):
    """The web app's session. CSRF is checked only once the session proves to be a signed-in one, so a
    stale or forged cookie gets the same 401 as no credentials at all."""

    openapi_description = "The web app's session cookie; unsafe methods also need the X-CSRFToken header."

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)
