"""Calibration profiles: a card, a photo of it burned, its reading, the profile made from it, and the studio
preparing for the measured surface (and a verify card reporting the error left)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from intaglio.assets.models import AssetKind
from intaglio.assets.services import asset_ingest_upload
from intaglio.assets.storage import blob_open
from intaglio.credits.services import credits_grant_monthly
from intaglio.engrave.errors import StudioRefused
from intaglio.engrave.models import CalibrationProfile
from intaglio.engrave.services import (
    artwork_create,
    artwork_prepare,
    calibration_profile_save,
    calibration_profile_verify,
    card_create,
    card_read_start,
    settings_validate,
)
from intaglio.jobs.models import JobState
from tests.factories import jpeg_bytes, run_queued_jobs
from tests.imaging.test_calibration_read import photo_of_layout

SETUP = {"material": "birch-plywood", "machine": "diode-10w", "mode": "floyd-steinberg"}
MARK_MM = 0.19  # wider than the library's 0.13 mm for this material and machine


@pytest.fixture
def funded(user):
    credits_grant_monthly(user=user, period="2026-12")
    return user


def upload(owner, data: bytes, name="burned.jpg"):
    return asset_ingest_upload(
        owner=owner, upload=SimpleUploadedFile(name, data, "image/jpeg"), kind=AssetKind.ENGRAVED_RESULT
    )


def layout_of(job) -> dict:
    with blob_open(job.outputs.get(role="card-json").storage_key) as handle:
        return json.loads(handle.read())


def burned_card_photo(job, mark_mm: float = MARK_MM) -> bytes:
    """A photo of the card this job made, burned with marks `mark_mm` wide."""
    return photo_of_layout(layout_of(job), mark_mm)[1]


def made_card(owner, **values):
    job = card_create(owner=owner, values={**SETUP, **values})
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_detail
    return job


def read_photo(owner, card_job, photo: bytes):
    job = card_read_start(owner=owner, card=card_job, photo=upload(owner, photo))
    run_queued_jobs()
    job.refresh_from_db()
    return job


@pytest.fixture
def reading(funded):
    card_job = made_card(funded)
    job = read_photo(funded, card_job, burned_card_photo(card_job))
    assert job.state == JobState.SUCCEEDED, job.error_message
    return job


def test_a_card_photo_is_read_into_a_profile(funded, reading):
    result = reading.result
    assert result["mark_diameter_mm"] == pytest.approx(MARK_MM, abs=0.01)
    assert len(result["tone"]) >= 16 and result["registration_rms_px"] < 0.5
    profile = calibration_profile_save(owner=funded, read_job=reading)
    assert (profile.material, profile.machine, profile.mode) == ("birch-plywood", "diode-10w", "floyd-steinberg")
    assert profile.line_interval_mm == pytest.approx(0.1)
    assert profile.mark_diameter_mm == pytest.approx(MARK_MM, abs=0.01)
    assert len(profile.grid) == 25 and profile.power_pct and profile.speed_mm_min
    # Saving again (a second card for the same setup) replaces it rather than adding one.
    assert calibration_profile_save(owner=funded, read_job=reading).pk == profile.pk
    assert CalibrationProfile.objects.filter(owner=funded).count() == 1


def test_the_studio_prepares_for_the_matching_profile_and_the_version_records_it(funded, reading):
    profile = calibration_profile_save(owner=funded, read_job=reading)
    clean = settings_validate({**SETUP, "width_mm": 60}, owner=funded)
    assert clean.calibration.profile == profile.pk
    assert clean.calibration.label.startswith("Calibrated ") and clean.calibration.label.endswith("from your card")
    assert clean.engine_kwargs()["calibration"].mark_diameter_mm == pytest.approx(profile.mark_diameter_mm)
    # Another mode, another interval or the switch turned off: no calibration.
    assert settings_validate({**SETUP, "width_mm": 60, "mode": "jarvis"}, owner=funded).calibration is None
    assert settings_validate({**SETUP, "width_mm": 60, "line_interval_mm": 0.08}, owner=funded).calibration is None
    off = settings_validate({**SETUP, "width_mm": 60, "use_calibration": False}, owner=funded)
    assert off.calibration is None and "calibration" not in off.engine_kwargs()
    # A calibration sent in is never taken as the studio's: only the owner's matching profile is.
    forged = settings_validate(
        {**SETUP, "width_mm": 60, "mode": "jarvis", "calibration": {"mark_diameter_mm": 1.0}}, owner=funded
    )
    assert forged.calibration is None

    photo = asset_ingest_upload(owner=funded, upload=SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"))
    artwork = artwork_create(owner=funded, source=photo)
    version = artwork_prepare(artwork=artwork, settings={**SETUP, "width_mm": 60})
    assert version.settings["calibration"]["profile"] == profile.pk
    run_queued_jobs()
    version.job.refresh_from_db()
    assert version.job.state == JobState.SUCCEEDED, version.job.error_detail


def test_a_verify_card_reports_the_error_the_profile_leaves(funded, reading):
    profile = calibration_profile_save(owner=funded, read_job=reading)
    verify = made_card(funded, calibration_profile=profile.pk)
    assert verify.params["calibration"]["profile"] == profile.pk
    assert layout_of(verify)["calibration"]["mark_diameter_mm"] == pytest.approx(profile.mark_diameter_mm)
    job = read_photo(funded, verify, burned_card_photo(verify))
    assert job.state == JobState.SUCCEEDED, job.error_message
    checked = calibration_profile_verify(owner=funded, read_job=job)
    assert checked.verified_at is not None
    # The library's card, read against the same surface, is further off than the verify card.
    assert checked.verify_error < reading.result["tone_error"]
    assert checked.verify_error < 0.05


def test_a_photo_without_the_card_fails_with_its_reason_and_makes_no_profile(funded):
    card_job = made_card(funded)
    job = read_photo(funded, card_job, jpeg_bytes(1600, 1200))
    assert job.state == JobState.FAILED
    assert "card" in job.error_message.lower()
    with pytest.raises(StudioRefused) as refused:
        calibration_profile_save(owner=funded, read_job=job)
    assert refused.value.code == "reading_not_ready"


def test_nobody_reads_or_saves_anothers_card(funded, other_user, reading):
    credits_grant_monthly(user=other_user, period="2026-12")
    card_job = reading.inputs.get(role="card-json").produced_by
    with pytest.raises(StudioRefused):
        card_read_start(owner=other_user, card=card_job, photo=upload(other_user, jpeg_bytes()))
    with pytest.raises(StudioRefused):
        calibration_profile_save(owner=other_user, read_job=reading)
