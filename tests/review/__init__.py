"""Internal-review tests: people in each staff role, and the pictures a reviewer may or may not see."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.storage import blob_write
from intaglio.feedback.services import feedback_photo_store
from intaglio.privacy.consent import consent_grant, consent_withdraw
from intaglio.privacy.models import ConsentScope
from tests.access import make_staff  # noqa: F401 - the tests of this package take it from here
from tests.factories import jpeg_bytes


def burn_photo(owner) -> Asset:
    """A photo of one of the owner's engraved pieces, stored as feedback does (kind engraved_result)."""
    upload = SimpleUploadedFile("burn.jpg", jpeg_bytes(120, 90), "image/jpeg")
    return feedback_photo_store(owner=owner, upload=upload)


def workshop_capture(owner) -> Asset:
    """A photo of the owner's piece taken in the workshop (kind factory_capture), as production stores it."""
    data = jpeg_bytes(100, 80)
    asset = Asset(
        owner=owner, kind=AssetKind.FACTORY_CAPTURE, mime="image/jpeg", sha256="0" * 64, bytes=len(data), width=100,
        height=80, download_name="capture.jpg", retention_class=RetentionClass.PRIVATE_FEEDBACK,
    )  # fmt: skip
    blob_write(asset.storage_key, data)
    asset.save()
    return asset


def allow(user, *scopes: str) -> None:
    for scope in scopes:
        consent_grant(user=user, scope=scope, source="privacy_page")


def withdraw(user, *scopes: str) -> None:
    for scope in scopes:
        consent_withdraw(user=user, scope=scope, source="privacy_page")


REVIEW = ConsentScope.INTERNAL_REVIEW
BROAD = ConsentScope.BROAD_LEARNING
