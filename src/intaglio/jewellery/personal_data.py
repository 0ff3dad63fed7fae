"""What jewellery holds about a person: pieces with their references, analysis and generations."""

from __future__ import annotations

from intaglio.core.personal_data import (
    Erasure,
    PersonalData,
    Section,
    Subject,
    iso,
    kept_as_content,
    owned_rows,
    register,
)
from intaglio.jewellery.models import Batch, DesignCheck, Piece, StyleKit


def _section() -> Section:
    return Section(
        "jewellery_pieces", "Jewellery pieces and their generations", *kept_as_content(), "To keep your jewellery work."
    )


def _export(subject: Subject) -> list[dict]:
    if subject.user is None:
        return []
    return [
        {
            "id": piece.pk,
            "title": piece.title,
            "reference_asset_ids": sorted(a.pk for a in piece.references.all()),
            "analysis_job_id": piece.analysis_job_id,
            "analysis": piece.analysis_job.result if piece.analysis_job else None,
            "attributes": piece.attributes,
            "brief": piece.brief,
            "confirmed_at": iso(piece.confirmed_at),
            "created_at": iso(piece.created_at),
            "generation_job_ids": sorted(g.job_id for g in piece.generations.all()),
            "design_checks": [
                {
                    "image_asset_id": check.image_id,
                    "generation_job_id": check.generation.job_id,
                    "score": check.score,
                    "flagged": check.flagged,
                    "changes": check.changes,
                    "checked_at": iso(check.checked_at),
                    "free_regeneration_job_id": check.regeneration.job_id if check.regeneration else None,
                }
                for check in DesignCheck.objects.filter(generation__piece=piece)
                .select_related("generation", "regeneration")
                .order_by("pk")
            ],
        }
        for piece in Piece.objects.filter(owner=subject.user)
        .select_related("analysis_job")
        .prefetch_related("references", "generations")
        .order_by("pk")
    ]


def _erase(erasure: Erasure) -> dict[str, int]:
    # After the jobs and files steps: what is left of a piece is its own row and its links.
    pieces = Piece.objects.filter(owner=erasure.user)
    count = pieces.count()
    pieces.delete()
    return {"jewellery_pieces": count}


def _kits_section() -> Section:
    return Section("jewellery_style_kits", "Jewellery style kits", *kept_as_content(), "To apply your saved looks.")


def _batches_section() -> Section:
    return Section(
        "jewellery_batches", "Jewellery batches", *kept_as_content(), "To show what a batch made and what it cost."
    )


def declare() -> None:
    register(
        PersonalData(app="jewellery", section=_section, position=80, export=_export, erase=_erase, erase_order=40),
        owned_rows(
            "jewellery", _kits_section, 81, StyleKit, ("id", "name", "brief", "created_at", "updated_at"),
            erased_as="jewellery_style_kits", erase_order=41,
        ),
        # Before the pieces' step (erase_order 40): a batch only names pieces and holds no files.
        owned_rows(
            "jewellery", _batches_section, 82, Batch,
            ("id", "kit_name", "brief", "piece_ids", "pending", "skipped", "credits", "created_at"),
            erased_as="jewellery_batches", erase_order=39,
        ),
    )  # fmt: skip
