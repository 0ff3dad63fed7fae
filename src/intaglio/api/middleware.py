from django.http import JsonResponse

from intaglio.api.errors import DEFAULT_CODES
from intaglio.core.errors import error_body


class ApiErrorShapeMiddleware:
    """Errors answered below the API's own handlers (e.g. a 405 for an unsupported method) get the error shape too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
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
