"""What engrave holds about a person: artworks with their versions, machine profiles, material presets and
calibration profiles."""

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
from intaglio.engrave.models import Artwork, CalibrationProfile, MachineProfile, MaterialPreset
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


MACHINE_FIELDS = (
    "id", "name", "kind", "power_w", "spot_mm", "line_interval_mm", "max_feed_mm_min", "work_area_w_mm",
    "work_area_h_mm", "s_max", "min_power_pct", "created_at",
)  # fmt: skip
PRESET_FIELDS = ("id", "name", "material", "mode", "line_interval_mm", "adjustments", "notes", "created_at")


def _machines_section() -> Section:
    return Section("machine_profiles", "Your machines", *kept_as_content(), "To prepare artwork for your own laser.")


def _presets_section() -> Section:
    return Section(
        "material_presets", "Your material presets", *kept_as_content(), "To start new artwork from your settings."
    )


CALIBRATION_FIELDS = (
    "id", "source", "material", "machine", "machine_label", "machine_kind", "mode", "line_interval_mm",
    "mark_diameter_mm", "tone", "tone_response", "grid", "power_pct", "speed_mm_min", "residual",
    "registration_rms_px", "read_job_id", "verify_error", "verified_at", "created_at", "updated_at",
)  # fmt: skip


def _calibrations_section() -> Section:
    return Section(
        "calibration_profiles",
        "Your calibrations",
        *kept_as_content(),
        "To prepare artwork for how your material and machine really burn, as your test cards measured.",
    )


def declare() -> None:
    register(
        PersonalData("engrave", _artworks_section, 70, export=_artworks_export, erase=_artworks_erase, erase_order=10),
        owned_rows(
            "engrave", _machines_section, 90, MachineProfile, MACHINE_FIELDS,
            erased_as="machine_profiles", erase_order=50,
        ),
        owned_rows(
            "engrave", _presets_section, 100, MaterialPreset, PRESET_FIELDS,
            erased_as="material_presets", erase_order=60,
        ),
        owned_rows(
            "engrave", _calibrations_section, 105, CalibrationProfile, CALIBRATION_FIELDS,
            erased_as="calibration_profiles", erase_order=55,
        ),
    )  # fmt: skip
