"""The site's error pages (404, 500, an expired form), as a page or, for programs, the API's error body."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

from intaglio.core.errors import error_body


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _error_page(request, *, status: int, code: str, title: str, message: str):
    if _wants_json(request):
        return JsonResponse(error_body(request, code=code, message=message), status=status)
    return render(request, "web/error.html", {"title": title, "message": message, "status": status}, status=status)


def csrf_failure(request, reason=""):
    return _error_page(
        request,
        status=403,
        code="csrf_failed",
        title="This form has expired",
        message="Reload the page and try again. (The security token that protects your forms was missing or old.)",
    )


def not_found(request, exception=None):
    return _error_page(
        request,
        status=404,
        code="not_found",
        title="Page not found",
        message="There is nothing at this address.",
    )


def server_error(request):
    return _error_page(
        request,
        status=500,
        code="server_error",
        title="Something went wrong",
        message="We could not complete that request. Nothing you saved was lost; please try again.",
    )
