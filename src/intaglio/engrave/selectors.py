"""Engrave studio reads, always scoped to an owner."""

from __future__ import annotations

import json

from django.db.models import F, Prefetch, QuerySet

from intaglio.assets.models import Asset, AssetKind
from intaglio.assets.storage import blob_open
from intaglio.engrave.errors import StudioRefused
from intaglio.engrave.models import Artwork, ArtworkVersion, CalibrationProfile, MachineProfile, MaterialPreset
from intaglio.jobs.models import Job

_OUTPUTS = Prefetch("job__outputs", queryset=Asset.objects.order_by("pk"))


def artwork_list(*, owner) -> QuerySet[Artwork]:
    return Artwork.objects.filter(owner=owner).select_related("source")


def artworks_with_versions(*, owner) -> QuerySet[Artwork]:
    """The owner's artworks with their versions (and their files) and style gallery, for one artwork's page."""
    return (
        artwork_list(owner=owner)
        .select_related("styles_job")
        .prefetch_related(Prefetch("versions", queryset=artwork_versions_query()))
    )


def artwork_get(*, owner, artwork_id: int) -> Artwork | None:
    return artworks_with_versions(owner=owner).filter(pk=artwork_id).first()


def artwork_cards(*, owner) -> list[tuple[Artwork, ArtworkVersion | None, Asset | None]]:
    """The owner's artworks for the list page, each with its latest version and that version's simulated burn."""
    artworks = artwork_list(owner=owner).prefetch_related("versions__job__outputs")
    cards = []
    for artwork in artworks:
        latest = next(iter(artwork.versions.all()), None)
        files = version_files(latest) if latest else {}
        cards.append((artwork, latest, files.get("burn-preview")))
    return cards


def source_photo_get(*, owner, asset_id: int) -> Asset:
    """One of the owner's uploaded photos, the only thing an artwork starts from (a G-code or SVG output is not a
    picture). Refused as `invalid_source` (404) otherwise, as the services refuse it."""
    photo = Asset.objects.filter(owner=owner, pk=asset_id, kind=AssetKind.SOURCE_PHOTO).first()
    if photo is None:
        raise StudioRefused("invalid_source", "That photo does not exist.", status=404)
    return photo


def artwork_versions_query() -> QuerySet[ArtworkVersion]:
    return ArtworkVersion.objects.select_related("job").prefetch_related(_OUTPUTS).order_by("-number")


def version_files(version: ArtworkVersion) -> dict[str, Asset]:
    """A version's files by role (png, svg, gcode, burn-preview); empty while its job runs or once it was deleted."""
    if version.job is None:
        return {}
    return {asset.role: asset for asset in version.job.outputs.all()}


def style_pictures(job: Job | None) -> dict[str, Asset]:
    """The style gallery's pictures (simulated burns) by style name (sketch, stipple, hatch, halftone)."""
    if job is None:
        return {}
    return {asset.role.removeprefix("style-"): asset for asset in job.outputs.order_by("pk")}


def machine_profiles(*, owner) -> QuerySet[MachineProfile]:
    return MachineProfile.objects.filter(owner=owner)


def machine_profile_get(*, owner, profile_id: int) -> MachineProfile | None:
    return machine_profiles(owner=owner).filter(pk=profile_id).first()


def material_presets(*, owner, material: str | None = None) -> QuerySet[MaterialPreset]:
    presets = MaterialPreset.objects.filter(owner=owner)
    return presets if material is None else presets.filter(material=material)


def material_preset_get(*, owner, preset_id: int) -> MaterialPreset | None:
    return material_presets(owner=owner).filter(pk=preset_id).first()


def studio_photos(*, owner) -> list[tuple[Asset, Asset | None]]:
    """The owner's uploaded photos, newest first, each with its asset thumbnail (None while it is being made)."""
    photos = list(Asset.objects.filter(owner=owner, kind=AssetKind.SOURCE_PHOTO).order_by("-created_at", "-pk"))
    thumbnails = Asset.objects.filter(owner=owner, role="thumbnail", produced_by__inputs__in=photos).annotate(
        photo_id=F("produced_by__inputs")
    )
    by_photo = {thumbnail.photo_id: thumbnail for thumbnail in thumbnails}
    return [(photo, by_photo.get(photo.pk)) for photo in photos]


def machine_key(*, machine_name: str | None, machine_profile: int | None) -> str:
    """How calibrations name a machine: a library machine by its name, one of the owner's as "mine:<id>"."""
    return f"mine:{machine_profile}" if machine_profile else (machine_name or "")


def calibration_profiles(*, owner) -> QuerySet[CalibrationProfile]:
    return CalibrationProfile.objects.filter(owner=owner)


def calibration_profile_get(*, owner, profile_id: int) -> CalibrationProfile | None:
    return calibration_profiles(owner=owner).filter(pk=profile_id).first()


def calibration_match(*, owner, settings, machine: MachineProfile | None = None) -> CalibrationProfile | None:
    """The owner's calibration for these artwork settings' material, machine, mode and line interval, if any.

    `machine` is the owner's machine the settings name (by `machine_profile`); settings that carry a frozen
    machine_spec are matched to the owner's machine with exactly those numbers."""
    if machine is None and settings.machine_spec is not None:
        frozen = settings.machine_spec.model_dump(mode="json")
        machine = next((m for m in machine_profiles(owner=owner) if m.spec() == frozen), None)
        if machine is None:
            return None
    key = machine_key(machine_name=settings.machine, machine_profile=machine.pk if machine else None)
    return (
        calibration_profiles(owner=owner)
        .filter(material=settings.material, machine=key, mode=settings.mode)
        .filter(line_interval_mm=round(settings.line_interval(), 4))
        .first()
    )


def card_jobs(*, owner) -> QuerySet[Job]:
    """The owner's material test cards (engrave.card jobs), newest first, with their files."""
    return (
        Job.objects.filter(owner=owner, kind="engrave.card").prefetch_related("outputs").order_by("-created_at", "-pk")
    )


def card_job_get(*, owner, job_id: int) -> Job | None:
    return card_jobs(owner=owner).filter(pk=job_id).first()


def card_readings(*, owner, card: Job) -> QuerySet[Job]:
    """The readings (engrave.card_read jobs) of photos of one of the owner's cards, newest first."""
    return (
        Job.objects.filter(owner=owner, kind="engrave.card_read", inputs__produced_by=card, inputs__role="card-json")
        .distinct()
        .order_by("-created_at", "-pk")
    )


def card_reading_get(*, owner, job_id: int) -> Job | None:
    return Job.objects.filter(owner=owner, kind="engrave.card_read", pk=job_id).first()


def reading_card(reading: Job) -> Job | None:
    """The card a reading was of."""
    layout = reading.inputs.filter(role="card-json").select_related("produced_by").first()
    return layout.produced_by if layout is not None else None


def artwork_version_get(*, owner, artwork_id: int, number: int) -> ArtworkVersion | None:
    """Version `number` (1, 2, 3…) of one of the owner's artworks, with its files."""
    return artwork_versions_query().filter(artwork__owner=owner, artwork__pk=artwork_id, number=number).first()


def card_layout(card: Job) -> dict:
    """A made card's card.json (docs/card-format.md) as a dict; empty while the card is not made."""
    layout = next((asset for asset in card.outputs.all() if asset.role == "card-json"), None)
    if layout is None:
        return {}
    with blob_open(layout.storage_key) as handle:
        return json.loads(handle.read())
