"""Serving stored files: only to their owner, or to whoever holds an unexpired signed link."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from intaglio.assets.models import Asset
from intaglio.assets.selectors import asset_get
from intaglio.assets.services import asset_from_signed_token
from intaglio.assets.storage import blob_open


def file_response(asset: Asset, *, attachment: bool, max_age: int) -> FileResponse:
    """The bytes with a fixed type, a safe name, no sniffing, and a sandbox in case a browser renders it anyway."""
    try:
        handle = blob_open(asset.storage_key)
    except FileNotFoundError:
        raise Http404("This file is no longer stored.") from None
    response = FileResponse(handle, content_type=asset.mime, as_attachment=attachment, filename=asset.download_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = f"private, max-age={max_age}"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@require_GET
@login_required
def asset_download(request, asset_id: int):
    asset = asset_get(owner=request.user, asset_id=asset_id)
    if asset is None:
        raise Http404("No such file.")
    # Stored bytes never change under a key, so the owner's browser may keep them for a while.
    return file_response(asset, attachment=request.GET.get("download") == "1", max_age=3600)


@require_GET
def signed_download(request):
    """The token rides in the query string, which request logs never record."""
    asset = asset_from_signed_token(request.GET.get("t", ""))
    if asset is None:
        raise Http404("This link has expired or is not valid.")
    return file_response(asset, attachment=request.GET.get("download") == "1", max_age=settings.SIGNED_URL_SECONDS)
