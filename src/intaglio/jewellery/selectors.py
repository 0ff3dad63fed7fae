"""Jewellery studio reads, always scoped to an owner."""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet

from intaglio.assets.models import Asset
from intaglio.jewellery.models import Generation, Piece


def piece_list(*, owner) -> QuerySet[Piece]:
    return (
        Piece.objects.filter(owner=owner)
        .select_related("analysis_job")
        .prefetch_related(Prefetch("references", queryset=Asset.objects.order_by("pk")))
    )


def piece_get(*, owner, piece_id: int) -> Piece | None:
    return piece_list(owner=owner).filter(pk=piece_id).first()


def generation_list(*, piece: Piece) -> QuerySet[Generation]:
    return (
        Generation.objects.filter(piece=piece)
        .select_related("job")
        .prefetch_related(Prefetch("job__outputs", queryset=Asset.objects.order_by("role", "pk")))
    )


def generation_get(*, owner, generation_id: int) -> Generation | None:
    return (
        Generation.objects.filter(piece__owner=owner, pk=generation_id)
        .select_related("job", "piece")
        .prefetch_related(Prefetch("job__outputs", queryset=Asset.objects.order_by("role", "pk")))
        .first()
    )


def reference_previews(piece: Piece) -> list[tuple[Asset, Asset | None]]:
    """Each reference with its thumbnail (None while the thumbnail is being made)."""
    references = list(piece.references.order_by("pk"))
    thumbnails = Asset.objects.filter(
        produced_by__kind="preview", produced_by__inputs__in=references, role="thumbnail"
    ).annotate(reference_id=F("produced_by__inputs"))
    by_reference = {thumbnail.reference_id: thumbnail for thumbnail in thumbnails}
    return [(reference, by_reference.get(reference.pk)) for reference in references]
