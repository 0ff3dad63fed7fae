"""Asset reads, always scoped to an owner."""

from __future__ import annotations

from django.db.models import Count, Sum

from intaglio.assets.models import Asset


def asset_get(*, owner, asset_id: int) -> Asset | None:
    return Asset.objects.filter(owner=owner, pk=asset_id).first()


def storage_used_bytes(*, owner) -> int:
    return Asset.objects.filter(owner=owner).aggregate(total=Sum("bytes"))["total"] or 0


def asset_totals(*, owner) -> dict[str, int]:
    """How many files the owner has stored and their bytes together: {"count": …, "bytes": …}."""
    totals = Asset.objects.filter(owner=owner).aggregate(count=Count("pk"), bytes=Sum("bytes"))
    return {"count": totals["count"] or 0, "bytes": totals["bytes"] or 0}
