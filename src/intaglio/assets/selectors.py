"""Asset reads, always scoped to an owner."""

from __future__ import annotations

from django.db.models import Count, F, Max, Sum

from intaglio.assets.models import Asset, AssetKind

# The kinds a person uploads: the plan's image-size limit is checked on these (assets.services.upload_limits).
UPLOADED_KINDS = (AssetKind.SOURCE_PHOTO, AssetKind.REFERENCE_IMAGE, AssetKind.ENGRAVED_RESULT)


def asset_get(*, owner, asset_id: int) -> Asset | None:
    return Asset.objects.filter(owner=owner, pk=asset_id).first()


def storage_used_bytes(*, owner) -> int:
    return Asset.objects.filter(owner=owner).aggregate(total=Sum("bytes"))["total"] or 0


def largest_upload_pixels(*, owner) -> int:
    """The pixel count of the owner's largest stored upload (0 without any), to compare with a plan's image limit."""
    largest = (
        Asset.objects.filter(owner=owner, kind__in=UPLOADED_KINDS, width__isnull=False, height__isnull=False)
        .annotate(pixels=F("width") * F("height"))
        .aggregate(largest=Max("pixels"))["largest"]
    )
    return int(largest or 0)


def asset_totals(*, owner) -> dict[str, int]:
    """How many files the owner has stored and their bytes together: {"count": …, "bytes": …}."""
    totals = Asset.objects.filter(owner=owner).aggregate(count=Count("pk"), bytes=Sum("bytes"))
    return {"count": totals["count"] or 0, "bytes": totals["bytes"] or 0}
