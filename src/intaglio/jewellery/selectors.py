"""Jewellery studio reads, always scoped to an owner."""

from __future__ import annotations

from django.db.models import Count, F, Prefetch, QuerySet

from intaglio.assets.models import Asset
from intaglio.jewellery.models import Batch, DesignCheck, Generation, Piece, StyleKit
from intaglio.jewellery.prompts import PRESETS
from intaglio.providers.registry import generation_provider


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


# --- style kits and batches


def style_kits(*, owner) -> QuerySet[StyleKit]:
    return StyleKit.objects.filter(owner=owner)


def style_kit_named(*, owner, name: str) -> StyleKit | None:
    return style_kits(owner=owner).filter(name=" ".join(name.split())).first()


def pieces_chosen(*, owner, piece_ids: list[int]) -> list[Piece]:
    """The owner's pieces among `piece_ids`, in the order given (ids of other owners' pieces are left out)."""
    found = {piece.pk: piece for piece in piece_list(owner=owner).filter(pk__in=piece_ids)}
    return [found[pk] for pk in dict.fromkeys(piece_ids) if pk in found]


def batches(*, owner) -> QuerySet[Batch]:
    return Batch.objects.filter(owner=owner)


def batch_progress(batch: Batch) -> list[dict]:
    """Each piece of the batch with where it stands (waiting, its generation's job state, or why it was skipped)
    and the images made so far."""
    generations = {
        generation.piece_id: generation
        for generation in Generation.objects.filter(batch=batch)
        .select_related("job", "piece")
        .prefetch_related(Prefetch("job__outputs", queryset=Asset.objects.order_by("role", "pk")))
    }
    titles = dict(Piece.objects.filter(pk__in=batch.piece_ids).values_list("pk", "title"))
    rows = []
    for piece_id in batch.piece_ids:
        generation = generations.get(piece_id)
        if generation is not None:
            state, note = generation.job.state, ""
        elif piece_id in batch.pending:
            state, note = "waiting", ""
        else:
            state, note = "skipped", batch.skipped.get(str(piece_id), "")
        rows.append(
            {
                "piece_id": piece_id,
                "title": titles.get(piece_id) or f"Piece #{piece_id}",
                "state": state,
                "note": note,
                "generation_id": generation.pk if generation else None,
                "images": list(generation.job.outputs.all()) if generation else [],
            }
        )
    return rows


def presets_offered() -> dict[str, bool]:
    """Every preset's name, and whether the configured generation provider can make it (its staging is in the
    provider's `stagings`). The studio offers only these; the others "need an image service"."""
    stagings = generation_provider().stagings
    return {name: preset.staging in stagings for name, preset in PRESETS.items()}


def design_checks_owned(*, owner) -> QuerySet[DesignCheck]:
    return DesignCheck.objects.filter(generation__piece__owner=owner).select_related(
        "generation__job", "generation__piece", "image"
    )


def angles_offered() -> bool:
    """Whether the configured generation provider can show a piece from another angle than its references."""
    return "new_angle" in generation_provider().stagings
