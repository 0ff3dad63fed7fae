"""Jewellery studio reads, always scoped to an owner."""

from __future__ import annotations

from django.db.models import Count, F, Prefetch, QuerySet

from intaglio.assets.models import Asset
from intaglio.jewellery.models import DesignCheck, Generation, Piece


def piece_list(*, owner) -> QuerySet[Piece]:
    return (
        Piece.objects.filter(owner=owner)
        .select_related("analysis_job")
        .prefetch_related(Prefetch("references", queryset=Asset.objects.order_by("pk")))
    )


def piece_list_with_counts(*, owner) -> QuerySet[Piece]:
    """The pieces, each with `generation_count`."""
    return piece_list(owner=owner).annotate(generation_count=Count("generations"))


def piece_get(*, owner, piece_id: int) -> Piece | None:
    return piece_list(owner=owner).filter(pk=piece_id).first()


def reference_count(*, piece: Piece) -> int:
    return piece.references.count()


def generation_list(*, piece: Piece) -> QuerySet[Generation]:
    return (
        Generation.objects.filter(piece=piece)
        .select_related("job")
        .prefetch_related(
            Prefetch("job__outputs", queryset=Asset.objects.order_by("role", "pk")),
            Prefetch("design_checks", queryset=DesignCheck.objects.select_related("generation__job")),
        )
    )


def generation_ids(*, piece: Piece) -> list[int]:
    """The piece's generation ids, newest first (the order generation_list gives)."""
    return list(generation_list(piece=piece).values_list("pk", flat=True))


def generations_owned(*, owner) -> QuerySet[Generation]:
    """Every generation of the owner's pieces, with its job, piece and images: the source an owner lookup reads."""
    return (
        Generation.objects.filter(piece__owner=owner)
        .select_related("job", "piece")
        .prefetch_related(
            Prefetch("job__outputs", queryset=Asset.objects.order_by("role", "pk")),
            Prefetch("design_checks", queryset=DesignCheck.objects.select_related("generation__job")),
        )
    )


def generation_get(*, owner, generation_id: int) -> Generation | None:
    return generations_owned(owner=owner).filter(pk=generation_id).first()


def reference_previews(piece: Piece) -> list[tuple[Asset, Asset | None]]:
    """Each reference with its thumbnail (None while the thumbnail is being made)."""
    references = list(piece.references.order_by("pk"))
    thumbnails = Asset.objects.filter(
        produced_by__kind="preview", produced_by__inputs__in=references, role="thumbnail"
    ).annotate(reference_id=F("produced_by__inputs"))
    by_reference = {thumbnail.reference_id: thumbnail for thumbnail in thumbnails}
    return [(reference, by_reference.get(reference.pk)) for reference in references]


def design_checks_owned(*, owner) -> QuerySet[DesignCheck]:
    return DesignCheck.objects.filter(generation__piece__owner=owner).select_related(
        "generation__job", "generation__piece", "image"
    )
