"""What assets holds about a person: the files they uploaded and the files their jobs produced."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.db import transaction

from intaglio.assets.models import Asset
from intaglio.assets.services import asset_delete_blobs
from intaglio.assets.storage import blob_open
from intaglio.core.personal_data import Erasure, ExportFile, PersonalData, Section, Subject, iso, register

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _path(asset: Asset) -> str:
    folder = "outputs" if asset.produced_by_id is not None else "uploads"
    name = _SAFE_NAME.sub("-", asset.download_name or "").strip("-.") or f"{asset.kind}.bin"
    return f"files/{folder}/{asset.pk}-{name[:100]}"


def _section() -> Section:
    return Section(
        "files",
        "Uploaded and produced files",
        "account_content",
        "Until you delete them or close your account; uploads also expire on their own schedule (expires_at).",
        "To run your jobs and give you the results.",
    )


def _files(subject: Subject) -> Iterator[ExportFile]:
    # By owner id, so files a legal hold kept are found even for an account known only by its former id.
    if subject.user_id is None:
        return
    for asset in Asset.objects.filter(owner_id=subject.user_id).order_by("pk"):
        yield ExportFile(
            file_id=asset.pk,
            path=_path(asset),
            mime=asset.mime,
            created_at=asset.created_at,
            open=lambda key=asset.storage_key: blob_open(key),
            record={
                "id": asset.pk,
                "kind": asset.kind,
                "role": asset.role,
                "title": asset.title,
                "download_name": asset.download_name,
                "mime": asset.mime,
                "bytes": asset.bytes,
                "width": asset.width,
                "height": asset.height,
                "retention_class": asset.retention_class,
                "expires_at": iso(asset.expires_at),
                "legal_hold": asset.legal_hold,
                "published_at": iso(asset.published_at),
                "curated": asset.curated,
                "produced_by_job_id": asset.produced_by_id,
                "created_at": iso(asset.created_at),
            },
        )


def _erase(erasure: Erasure) -> dict[str, int]:
    """Every file the jobs step left, and its blob; files under legal hold stay."""
    with transaction.atomic():
        doomed = Asset.objects.filter(owner=erasure.user, legal_hold=False)
        keys = list(doomed.values_list("storage_key", flat=True))
        doomed.delete()
    return {
        "files": len(keys),
        "blob_failures": asset_delete_blobs(keys),
        "held_files": Asset.objects.filter(owner=erasure.user, legal_hold=True).count(),
    }


def declare() -> None:
    register(PersonalData(app="assets", section=_section, position=60, files=_files, erase=_erase, erase_order=30))
