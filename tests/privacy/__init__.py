"""Tests of the privacy mechanisms, each named after the clause of PRIVACY-SPEC.md it proves."""

from __future__ import annotations

from intaglio.assets.models import Asset, AssetKind, RetentionClass


def make_asset(owner, kind: str = AssetKind.ENGRAVED_RESULT, **fields) -> Asset:
    """An asset with a small blob, so the after-test storage scan finds rows and files in step."""
    from intaglio.assets.storage import blob_write

    values = {
        "mime": "image/jpeg",
        "sha256": "0" * 64,
        "bytes": 1000,
        "download_name": "photo.jpg",
        "retention_class": RetentionClass.PRIVATE_FEEDBACK
        if kind == AssetKind.ENGRAVED_RESULT
        else RetentionClass.ACCOUNT_CONTENT,
        **fields,
    }
    asset = Asset.objects.create(owner=owner, kind=kind, **values)
    blob_write(asset.storage_key, b"\xff\xd8 test blob")
    return asset
