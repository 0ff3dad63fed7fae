"""What review holds about a person: the verdicts reviewers gave on their photos. Exported (they are judgements of
the person's own work, so they are the person's data to see), without the reviewer's identity; erased with the
account, and with their photo whenever it goes. The accesses themselves are in the staff-access section."""

from __future__ import annotations

from intaglio.core.personal_data import Erasure, PersonalData, Section, Subject, iso, register
from intaglio.review.models import Verdict


def _section() -> Section:
    return Section(
        "review_verdicts",
        "Reviewers' verdicts on your photos",
        "account_content",
        "As long as the photo they judge; deleted with it, or when you close your account.",
        "Internal review of styles, materials and machine settings, as you allowed (E13).",
    )


def _export(subject: Subject) -> list[dict]:
    if subject.user_id is None:
        return []
    verdicts = Verdict.objects.filter(asset__owner_id=subject.user_id).order_by("created_at", "pk")
    return [
        {
            "id": v.pk,
            "file_id": v.asset_id,
            "style_valid": v.style_valid,
            "material_valid": v.material_valid,
            "settings_valid": v.settings_valid,
            "note": v.note,
            "created_at": iso(v.created_at),
        }
        for v in verdicts
    ]


def _erase(erasure: Erasure) -> dict[str, int]:
    return {"review_verdicts": Verdict.objects.filter(asset__owner=erasure.user).delete()[0]}


def declare() -> None:
    # Before the files step (erase_order 30 and later), whose rows the verdicts point at.
    register(PersonalData(app="review", section=_section, position=114, export=_export, erase=_erase, erase_order=5))
