"""What several areas of the site share: the htmx login guard and the upload form's limits."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse

from intaglio.imaging import ACCEPTED_HUMAN

# The formats the ingest step accepts, for the file picker (the server still sniffs every file).
UPLOAD_ACCEPT = (
    "image/jpeg,image/png,image/webp,image/heic,image/heif,image/tiff,.jpg,.jpeg,.png,.webp,.heic,.heif,.tif,.tiff"
)


def upload_form_context() -> dict:
    """What an upload form tells the browser and the person: accepted formats and the size limit."""
    return {
        "upload_accept": UPLOAD_ACCEPT,
        "upload_formats": ACCEPTED_HUMAN,
        "upload_max_bytes": settings.UPLOAD_MAX_BYTES,
        "upload_max_label": f"{settings.UPLOAD_MAX_BYTES / (1024 * 1024):.0f} MB",
    }


def fragment_login_required(view):
    """For pieces of a page fetched by htmx: a lapsed session sends the whole page to the login form, instead of
    the login form being swapped into the piece."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            # Back to the page that held the piece, not to the piece itself.
            page = urlsplit(request.headers.get("HX-Current-URL", "")).path or reverse("dashboard")
            back_to = urlencode({"next": page})
            response["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?{back_to}"
            return response
        return redirect_to_login(request.get_full_path())

    return wrapper
