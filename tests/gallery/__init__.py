"""Gallery tests: a finished version made without running the engine, so the pages are tested quickly."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from intaglio.accounts.roles import Role
from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.services import asset_ingest_upload
from intaglio.assets.storage import blob_write
from intaglio.engrave.models import ArtworkVersion
from intaglio.engrave.services import artwork_create
from intaglio.jobs.models import Job, JobState
from tests.access import make_staff
from tests.factories import jpeg_bytes

SETTINGS = {"material": "slate", "machine": "diode-10w", "width_mm": 60.0, "mode": "atkinson"}
SECRET_TEXT = "made-by-alice@example.com at 51.5N 0.1W"


def png_with_text(width: int = 90, height: int = 60, shade: int = 40) -> bytes:
    """A PNG carrying a text chunk and an ICC profile, as an editor might leave them."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET_TEXT)
    buffer = io.BytesIO()
    image = Image.new("L", (width, height), shade)
    image.save(buffer, "PNG", pnginfo=info, icc_profile=b"")
    return buffer.getvalue()


def jpeg_with_exif(width: int = 120, height: int = 90) -> bytes:
    image = Image.new("RGB", (width, height), (120, 90, 60))
    exif = Image.Exif()
    exif[0x010E] = SECRET_TEXT  # ImageDescription
    exif[0x013B] = "Alice Example"  # Artist
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def _output(owner, job: Job, role: str, data: bytes) -> Asset:
    asset = Asset.objects.create(
        owner=owner, kind=AssetKind.ARTWORK if role == "png" else AssetKind.PREVIEW, role=role, mime="image/png",
        sha256="0" * 64, bytes=len(data), width=90, height=60, download_name=f"{role}.png",
        retention_class=RetentionClass.ACCOUNT_CONTENT, produced_by=job,
    )  # fmt: skip
    blob_write(asset.storage_key, data)
    return asset


def finished_version(owner, *, title: str = "Rex on slate", settings: dict | None = None) -> ArtworkVersion:
    """An artwork from an uploaded photo and one version whose job finished with a PNG and a burn preview."""
    photo = asset_ingest_upload(owner=owner, upload=SimpleUploadedFile("rex.jpg", jpeg_bytes(160, 120), "image/jpeg"))
    artwork = artwork_create(owner=owner, source=photo, title=title)
    job = Job.objects.create(owner=owner, kind="engrave.prepare", state=JobState.SUCCEEDED, params={})
    _output(owner, job, "png", png_with_text(shade=20))
    _output(owner, job, "burn-preview", png_with_text(shade=140))
    number = artwork.versions.count() + 1
    return ArtworkVersion.objects.create(artwork=artwork, number=number, settings=settings or SETTINGS, job=job)


def make_moderator(**fields):
    return make_staff(Role.MODERATOR, **fields)
