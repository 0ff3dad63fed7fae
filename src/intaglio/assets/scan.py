"""Storage scan: blobs no Asset references, and Assets whose blob is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from intaglio.assets.models import Asset
from intaglio.assets.storage import blob_keys, blob_storage


@dataclass
class ScanReport:
    blobs: int = 0
    assets: int = 0
    orphan_blobs: list[str] = field(default_factory=list)  # stored, but no Asset row
    missing_blobs: list[int] = field(default_factory=list)  # Asset ids whose blob is gone

    @property
    def clean(self) -> bool:
        return not self.orphan_blobs and not self.missing_blobs


def storage_scan() -> ScanReport:
    report = ScanReport()
    # A row is judged only if it existed before the listing began: its blob was written before its row.
    started = timezone.now()
    stored = set(blob_keys())
    report.blobs = len(stored)
    referenced = dict(Asset.objects.filter(created_at__lt=started).values_list("storage_key", "pk"))
    report.assets = len(referenced)
    all_keys = set(Asset.objects.values_list("storage_key", flat=True))
    report.orphan_blobs = sorted(stored - all_keys)
    report.missing_blobs = sorted(pk for key, pk in referenced.items() if key not in stored)
    return report


def storage_delete_orphans(report: ScanReport, *, older_than: timedelta = timedelta(hours=1)) -> int:
    """Deletes orphan blobs older than `older_than` (younger ones may belong to a write still in progress)."""
    storage = blob_storage()
    cutoff = timezone.now() - older_than
    deleted = 0
    for key in report.orphan_blobs:
        if Asset.objects.filter(storage_key=key).exists():
            continue
        try:
            modified = storage.get_modified_time(key)
        except FileNotFoundError:
            continue
        if modified < cutoff:
            storage.delete(key)
            deleted += 1
    return deleted
