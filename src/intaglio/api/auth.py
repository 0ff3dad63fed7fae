"""API authentication: a personal token (Bearer) or the browser session (with its CSRF token)."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from intaglio.accounts.services import api_token_authenticate


class BearerToken(HttpBearer):
    openapi_description = "A personal API token from Account settings: `Authorization: Bearer itg_…`."

    def authenticate(self, request, token):
        user = api_token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user


class BrowserSession(SessionAuth):
    """The web app's session. CSRF is checked only once the session proves to be a signed-in one, so a
    stale or forged cookie gets the same 401 as no credentials at all."""

    openapi_description = "The web app's session cookie; unsafe methods also need the X-CSRFToken header."

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)
