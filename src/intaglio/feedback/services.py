"""Feedback writes: photos of burned cards and finished pieces stored as private feedback (E9, E12), and a maker
starting from the shared guidance."""

from __future__ import annotations

import logging

from django.db import transaction

from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.services import asset_delete_blobs, asset_ingest_upload
from intaglio.engrave.errors import StudioRefused
from intaglio.engrave.models import ArtworkVersion, CalibrationProfile
from intaglio.engrave.selectors import machine_key, machine_profile_get, version_files
from intaglio.engrave.services import card_read_start
from intaglio.feedback.models import BurnReport
from intaglio.feedback.selectors import SharedGuidance, shared_guidance
from intaglio.imaging.artwork import get_machine, get_material, machines, materials
from intaglio.jobs.models import Job
from intaglio.jobs.services import job_create
from intaglio.privacy.consent import engraved_result_expiry

log = logging.getLogger("intaglio.feedback")


def feedback_photo_store(*, owner, upload) -> Asset:
    """Stores a photo of one of the owner's engravings as private feedback: 14 days, or kept while
    `engraved_learning` is on (E12)."""
    photo = asset_ingest_upload(owner=owner, upload=upload, kind=AssetKind.ENGRAVED_RESULT)
    photo.retention_class = RetentionClass.PRIVATE_FEEDBACK
    photo.expires_at = engraved_result_expiry(user=owner)
    photo.save(update_fields=["retention_class", "expires_at"])
    return photo


def _discard(photo: Asset) -> None:
    """A photo whose job could not be queued would sit unused until it expires: it goes now."""
    key = photo.storage_key
    photo.delete()
    asset_delete_blobs([key])


def card_photo_read(*, owner, card: Job, upload) -> Job:
    """Stores a photo of a burned test card (private feedback) and queues its reading."""
    photo = feedback_photo_store(owner=owner, upload=upload)
    try:
        return card_read_start(owner=owner, card=card, photo=photo)
    except BaseException:
        _discard(photo)
        raise


def burn_photo_report(*, owner, version: ArtworkVersion, upload) -> BurnReport:
    """*How did it burn?*: stores a photo of the finished piece made from `version` (which the owner must own, E9)
    and queues its alignment and measurement against the version's simulated burn."""
    if version.artwork.owner_id != owner.pk:
        raise StudioRefused("not_found", "That artwork version does not exist.", status=404)
    files = version_files(version)
    if not {"png", "burn-preview"} <= files.keys() or files["png"].mime != "image/png":
        raise StudioRefused(
            "version_not_ready", "This version's files are not made yet (or were deleted), so there is nothing to "
            "compare the photo with.", status=409,
        )  # fmt: skip
    photo = feedback_photo_store(owner=owner, upload=upload)
    try:
        with transaction.atomic():
            job = job_create(
                owner=owner,
                kind="feedback.burn_photo",
                inputs=[photo, files["png"], files["burn-preview"]],
            )
            report = BurnReport.objects.create(owner=owner, version=version, photo=photo, job=job)
    except BaseException:
        _discard(photo)
        raise
    log.info("burn_report.queued", extra={"report_id": report.pk, "job_id": job.pk})
    return report


def burn_report_delete(*, report: BurnReport) -> None:
    """Deletes the report with its photo and pictures at once, without waiting for their expiry."""
    assets = [report.photo]
    if report.job is not None:
        assets += list(report.job.outputs.all())
    keys = [asset.storage_key for asset in assets]
    with transaction.atomic():
        Asset.objects.filter(pk__in=[asset.pk for asset in assets]).delete()  # the report goes with its photo
    asset_delete_blobs(keys)


def guidance_adopt(
    *, owner, guidance: SharedGuidance, machine: str, machine_label: str, line_interval_mm: float
) -> CalibrationProfile:
    """Starts the owner's calibration for `machine` (a library name or "mine:<id>") from what other makers measured,
    until their own card is read. An existing profile of theirs is never replaced."""
    profile, _ = CalibrationProfile.objects.get_or_create(
        owner=owner,
        material=guidance.material,
        machine=machine,
        mode=guidance.mode,
        line_interval_mm=round(line_interval_mm, 4),
        defaults={
            "source": CalibrationProfile.Source.SHARED,
            "machine_label": machine_label,
            "machine_kind": guidance.machine_kind,
            "mark_diameter_mm": guidance.mark_diameter_mm,
            "tone": [list(pair) for pair in guidance.tone],
            "tone_response": [],
            "grid": [],
            "power_pct": guidance.power_pct,
            "speed_mm_min": guidance.speed_mm_min,
        },
    )
    return profile


def guidance_start(
    *,
    owner,
    material: str,
    mode: str,
    machine: str | None = None,
    machine_profile: int | None = None,
    line_interval_mm: float | None = None,
) -> CalibrationProfile:
    """Starts the owner's calibration for a machine (a library name, or the id of one of their machines) from the
    shared guidance for the material, that machine's kind and the mode (see guidance_adopt). The line interval
    defaults to the coarser of the material's and the machine's. Refused as `no_guidance` (404) while fewer than
    GUIDANCE_MIN_ACCOUNTS makers measured that setup."""
    if (machine is None) == (machine_profile is None):
        raise StudioRefused(
            "invalid_settings", "Give exactly one of machine (a library name) or machine_profile (your machine's id)."
        )
    if machine_profile is not None:
        mine = machine_profile_get(owner=owner, profile_id=machine_profile)
        if mine is None:
            raise StudioRefused("invalid_settings", "That machine profile does not exist.")
        kind, label, machine_interval = mine.kind, mine.name, mine.line_interval_mm
    else:
        if machine not in machines():
            raise StudioRefused("invalid_settings", f"Unknown machine {machine!r}.")
        library = get_machine(machine)
        kind, label, machine_interval = library.kind, library.label, library.line_interval_mm
    if material not in materials():
        raise StudioRefused("invalid_settings", f"Unknown material {material!r}.")
    guidance = shared_guidance(material=material, machine_kind=kind, mode=mode)
    if not guidance:
        raise StudioRefused(
            "no_guidance",
            f"Not enough makers have measured {material} on a {kind} laser in {mode} yet; burn a test card instead.",
            status=404,
        )
    return guidance_adopt(
        owner=owner,
        guidance=guidance[0],
        machine=machine_key(machine_name=machine, machine_profile=machine_profile),
        machine_label=label,
        line_interval_mm=line_interval_mm or max(get_material(material).line_interval_mm, machine_interval),
    )
