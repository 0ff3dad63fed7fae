"""One error shape for every API error, and the handlers that produce it."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, TooManyFilesSent
from django.http import Http404, RawPostDataException
from django.http.multipartparser import MultiPartParserError
from ninja import Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError

from intaglio.core.access import NotOwned
from intaglio.core.errors import Refused, error_body

log = logging.getLogger("intaglio.api")

# Documented on every operation (see IntaglioAPI.get_openapi_schema).
ERROR_STATUSES = {
    400: "The request could not be read (malformed body or parameters).",
    401: "No valid credentials: send a session cookie with a CSRF token, or `Authorization: Bearer <token>`.",
    403: "Authenticated, but not allowed (or the CSRF check failed).",
    404: "No such object, or it is not yours.",
    422: "The request was read but its content is not valid; `details` names each field.",
    429: "Too many requests; retry after the number of seconds in `Retry-After`.",
}
# Documented on every operation that takes a body.
BODY_TOO_LARGE = "The request body is larger than the server takes (`too_large`)."

DEFAULT_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "validation_error",
    429: "rate_limited",
}


class ErrorDetail(Schema):
    loc: list[str | int] = []
    msg: str
    type: str = ""


class ErrorBody(Schema):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorOut(Schema):
    error: ErrorBody
    request_id: str | None = None


class ApiError(HttpError):
    """Raise from an operation to answer with a specific code and message."""

    def __init__(self, status_code: int, code: str, message: str):
        super().__init__(status_code, message)
        self.code = code


def _respond(api, request, *, status: int, code: str, message: str, details=None, headers=None):
    body = error_body(request, code=code, message=message, details=details)
    response = api.create_response(request, body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def install_error_handlers(api) -> None:
    def validation_error(request, exc: ValidationError):
        details = [
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors
        ]
        return _respond(
            api,
            request,
            status=422,
            code="validation_error",
            message="Some fields are not valid.",
            details=details,
        )

    def http_error(request, exc: HttpError):
        if isinstance(exc.__cause__, ValidationError):
            # ninja answers any error of the body parser with 400; a body that parsed but is not an object
            # (schemas.ObjectBodyParser) is content that is not valid, so it gets the 422 every such body gets.
            return validation_error(request, exc.__cause__)
        status = exc.status_code
        code = getattr(exc, "code", None) or DEFAULT_CODES.get(status, "error")
        message = str(exc)
        headers = {}
        if isinstance(exc, Throttled):
            message = "Too many requests. Slow down and retry later."
            if exc.wait:
                headers["Retry-After"] = str(int(exc.wait))
        elif isinstance(exc, AuthenticationError):
            message = "Authentication required: log in, or send `Authorization: Bearer <token>`."
        elif isinstance(exc, AuthorizationError):
            message = "You are not allowed to do this."
        elif status == 403 and "CSRF" in message:
            code, message = (
                "csrf_failed",
                "CSRF check failed: send the X-CSRFToken header with session requests.",
            )
        elif status == 400 and code == "bad_request":
            message = f"The request could not be read: {message}"
        return _respond(api, request, status=status, code=code, message=message, headers=headers)

    def not_found(request, exc):
        # An owner lookup (core.access.owned) names what was not found; any other 404 says no more than this.
        message = exc.message if isinstance(exc, NotOwned) else "Not found."
        return _respond(api, request, status=404, code="not_found", message=message)

    def permission_denied(request, exc):
        return _respond(api, request, status=403, code="forbidden", message="You are not allowed to do this.")

    def unreadable_body(request, exc):
        # Raised while the request body is parsed (by the CSRF check or the operation), before any of our code.
        if isinstance(exc, RequestDataTooBig | TooManyFilesSent):
            return _respond(api, request, status=413, code="too_large", message="The request body is too large.")
        return _respond(api, request, status=400, code="bad_request", message="The request body could not be read.")

    def refused(request, exc: Refused):
        # Every domain refusal carries its own status (404 not yours, 409 conflict, 413 too large, 422 not valid).
        return _respond(api, request, status=exc.status, code=exc.code, message=exc.message)

    def server_error(request, exc):
        log.exception("api.unhandled_error", extra={"path": request.path})
        return _respond(
            api,
            request,
            status=500,
            code="server_error",
            message="Something went wrong on our side. Nothing was changed; please retry.",
        )

    api.add_exception_handler(ValidationError, validation_error)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(PermissionDenied, permission_denied)
    api.add_exception_handler(MultiPartParserError, unreadable_body)
    api.add_exception_handler(RawPostDataException, unreadable_body)
    api.add_exception_handler(SuspiciousOperation, unreadable_body)
    api.add_exception_handler(Refused, refused)
    api.add_exception_handler(Exception, server_error)
