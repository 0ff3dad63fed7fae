"""Files: the bytes of your uploads and of what your jobs made, directly or through a short-lived link."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from ninja import Field, Router, Schema

from intaglio.api.schemas import StrictIn
from intaglio.assets.models import Asset
from intaglio.assets.services import asset_signed_url
from intaglio.assets.views import file_response
from intaglio.core.access import owned

router = Router(tags=["files"])

# The longest link a client may ask for.
SIGNED_URL_MAX_SECONDS = 15 * 60


class SignedUrlIn(StrictIn):
    seconds: int | None = Field(
        None,
        ge=1,
        le=SIGNED_URL_MAX_SECONDS,
        description=f"How long the link works, at most {SIGNED_URL_MAX_SECONDS} s; the server default if omitted.",
    )
    download: bool = Field(False, description="Serve the file as an attachment to save, rather than to display.")


class SignedUrlOut(Schema):
    url: str = Field(description="Works without credentials until `expires_at`; treat it as a secret.")
    expires_at: datetime


_FILE_RESPONSE = {
    200: {
        "description": "The file's bytes, with its stored type (e.g. image/jpeg) as Content-Type.",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(
    "/assets/{asset_id}/content",
    response={200: None},
    url_name="asset_content",
    openapi_extra={"responses": _FILE_RESPONSE},
    summary="Download a file",
    description=(
        "The bytes of one of your files. `?download=true` asks the browser to save it rather than display it. "
        "Every job lists its files with this URL."
    ),
)
def asset_content(request, asset_id: int, download: bool = False):
    # Stored bytes never change under a key, so the owner's client may keep them for a while.
    asset = owned(Asset, owner=request.auth, pk=asset_id, missing="No such file.")
    return file_response(asset, attachment=download, max_age=3600)


@router.post(
    "/assets/{asset_id}/signed-url",
    response=SignedUrlOut,
    summary="A short-lived link to a file that works without credentials",
    description=(
        "For handing a file to a program that cannot send your token (an image tag, a laser cutter's software). "
        f"The link works for `seconds` (at most {SIGNED_URL_MAX_SECONDS}), then answers 404. The body is optional."
    ),
)
def create_signed_url(request, asset_id: int, payload: SignedUrlIn | None = None):
    asset = owned(Asset, owner=request.auth, pk=asset_id, missing="No such file.")
    payload = payload or SignedUrlIn()
    seconds = settings.SIGNED_URL_SECONDS if payload.seconds is None else payload.seconds
    # Taken just before signing, so the link never expires before the time we report.
    expires_at = timezone.now() + timedelta(seconds=seconds)
    url = asset_signed_url(asset=asset, seconds=seconds, download=payload.download)
    return {"url": url, "expires_at": expires_at}
