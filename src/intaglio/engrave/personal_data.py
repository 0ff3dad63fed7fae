"""What engrave holds about a person: artworks with their versions, machine profiles and material presets."""

from __future__ import annotations

from intaglio.core.personal_data import Erasure, PersonalData, Section, Subject, iso, kept_as_content, register
from intaglio.engrave.models import Artwork, MachineProfile, MaterialPreset
from intaglio.engrave.services import artwork_delete
from intaglio.jobs.personal_data import held_job_ids


def _artworks_section() -> Section:
    return Section("artworks", "Artworks and their versions", *kept_as_content(), "To keep your engraving work.")


def _artworks_export(subject: Subject) -> list[dict]:
    if subject.user is None:
        return []
    return [
        {
            "id": a.pk,
            "title": a.title,
            "source_asset_id": a.source_id,
            "settings": a.settings,
            "styles_job_id": a.styles_job_id,
            "created_at": iso(a.created_at),
            "updated_at": iso(a.updated_at),
            "versions": [
                {"number": v.number, "settings": v.settings, "job_id": v.job_id, "created_at": iso(v.created_at)}
                for v in a.versions.order_by("number")
            ],
        }
        for a in Artwork.objects.filter(owner=subject.user).prefetch_related("versions").order_by("pk")
    ]


def _artworks_erase(erasure: Erasure) -> dict[str, int]:
    """Artworks go first, their version and style jobs with them; one whose jobs touch a held file stays."""
    held_jobs = held_job_ids(erasure.user)
    deleted = 0
    for artwork in Artwork.objects.filter(owner=erasure.user).select_related("styles_job"):
        version_jobs = set(artwork.versions.exclude(job=None).values_list("job_id", flat=True))
        if (version_jobs | {artwork.styles_job_id}) & held_jobs:
            continue
        artwork_delete(artwork=artwork)
        deleted += 1
    return {"artworks": deleted}


def _machines_section() -> Section:
    return Section("machine_profiles", "Your machines", *kept_as_content(), "To prepare artwork for your own laser.")


def _machines_export(subject: Subject) -> list[dict]:
    if subject.user is None:
        return []
    return [
        {
            "id": m.pk,
            "name": m.name,
            "kind": m.kind,
            "power_w": m.power_w,
            "spot_mm": m.spot_mm,
            "line_interval_mm": m.line_interval_mm,
            "max_feed_mm_min": m.max_feed_mm_min,
            "work_area_w_mm": m.work_area_w_mm,
            "work_area_h_mm": m.work_area_h_mm,
            "s_max": m.s_max,
            "min_power_pct": m.min_power_pct,
            "created_at": iso(m.created_at),
        }
        for m in MachineProfile.objects.filter(owner=subject.user).order_by("pk")
    ]


def _machines_erase(erasure: Erasure) -> dict[str, int]:
    return {"machine_profiles": MachineProfile.objects.filter(owner=erasure.user).delete()[0]}


def _presets_section() -> Section:
    return Section(
        "material_presets", "Your material presets", *kept_as_content(), "To start new artwork from your settings."
    )


def _presets_export(subject: Subject) -> list[dict]:
    if subject.user is None:
        return []
    return [
        {
            "id": p.pk,
            "name": p.name,
            "material": p.material,
            "mode": p.mode,
            "line_interval_mm": p.line_interval_mm,
            "adjustments": p.adjustments,
            "notes": p.notes,
            "created_at": iso(p.created_at),
        }
        for p in MaterialPreset.objects.filter(owner=subject.user).order_by("pk")
    ]


def _presets_erase(erasure: Erasure) -> dict[str, int]:
    return {"material_presets": MaterialPreset.objects.filter(owner=erasure.user).delete()[0]}


def declare() -> None:
    register(
        PersonalData(
            app="engrave",
            section=_artworks_section,
            position=70,
            export=_artworks_export,
            erase=_artworks_erase,
            erase_order=10,
        )
    )
    register(
        PersonalData(
            app="engrave",
            section=_machines_section,
            position=90,
            export=_machines_export,
            erase=_machines_erase,
            erase_order=50,
        )
    )
    register(
        PersonalData(
            app="engrave",
            section=_presets_section,
            position=100,
            export=_presets_export,
            erase=_presets_erase,
            erase_order=60,
        )
    )
