from django.http import JsonResponse

from intaglio.api.errors import DEFAULT_CODES
from intaglio.api.throttling import rate_limit_headers
from intaglio.core.errors import error_body


class ApiErrorShapeMiddleware:
    """Errors answered below the API's own handlers (e.g. a 405 for an unsupported method) get the error shape too,
    and every API answer whose request was counted carries the rate-limit headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._shaped(request, self.get_response(request))
        hit = getattr(request, "rate_limit", None)
        if hit is not None:
            for name, value in rate_limit_headers(hit).items():
                response[name] = value
        return response

    def _shaped(self, request, response):
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            shaped = JsonResponse(
                error_body(
                    request,
                    code=DEFAULT_CODES.get(response.status_code, "error"),
                    message=f"{response.reason_phrase}."
                    if response.status_code != 405
                    else f"Method {request.method} is not allowed here. Allowed: {response.get('Allow', '')}.",
                ),
                status=response.status_code,
            )
            for header in ("Allow", "Retry-After"):
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response
