"""Asset reads, always scoped to an owner."""

from __future__ import annotations

from django.db.models import Sum

from intaglio.assets.models import Asset


def asset_get(*, owner, asset_id: int) -> Asset | None:
    return Asset.objects.filter(owner=owner, pk=asset_id).first()


def storage_used_bytes(*, owner) -> int:
    return Asset.objects.filter(owner=owner).aggregate(total=Sum("bytes"))["total"] or 0
