"""The calibration pages and How did it burn? in the studio: a new test card (and its refusals on the form), the
card's files and photo upload, the reading's report, saving and verifying a calibration, the calibrations list; the
studio's calibration badge, test-card link and shared guidance; a photo of a finished piece measured against its
version; and the library's "Measured by N makers". Every page is the owner's alone (404 for anyone else)."""

from __future__ import annotations

import html
import io
import re

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from intaglio.assets.services import asset_ingest_upload
from intaglio.credits.services import credits_grant_monthly
from intaglio.engrave import services
from intaglio.engrave.models import CalibrationProfile
from intaglio.engrave.selectors import version_files
from intaglio.feedback.models import BurnReport
from intaglio.jobs.models import Job, JobState
from intaglio.privacy.consent import consent_grant
from tests.engrave import MACHINE
from tests.engrave.test_calibration_profiles import MARK_MM, burned_card_photo
from tests.factories import jpeg_bytes, make_user, run_queued_jobs
from tests.imaging.test_burn_photo import burned, photograph

pytestmark = pytest.mark.django_db
SETUP = {"material": "birch-plywood", "machine": "diode-10w", "mode": "floyd-steinberg"}


def text(response) -> str:
    """The page's text without tags, with runs of whitespace made single."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def jpeg_upload(data: bytes, name="photo.jpg"):
    return SimpleUploadedFile(name, data, "image/jpeg")


@pytest.fixture
def maker(client, user):
    credits_grant_monthly(user=user, period="2026-12")
    client.force_login(user)
    return client


def made_card(client, **values) -> Job:
    response = client.post(reverse("calibrate-card-new"), {**SETUP, "line_interval_mm": "", **values})
    assert response.status_code == 302, text(response)
    card = Job.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert response["Location"] == reverse("calibrate-card", args=[card.pk])
    run_queued_jobs()
    card.refresh_from_db()
    assert card.state == JobState.SUCCEEDED, card.error_detail
    return card


def read(client, card: Job, photo: bytes) -> Job:
    response = client.post(reverse("calibrate-card-photo", args=[card.pk]), {"photo": jpeg_upload(photo)})
    assert response.status_code == 302
    reading = Job.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert response["Location"] == reverse("calibrate-reading", args=[reading.pk])
    run_queued_jobs()
    reading.refresh_from_db()
    return reading


@pytest.fixture
def reading(maker):
    card = made_card(maker)
    job = read(maker, card, burned_card_photo(card))
    assert job.state == JobState.SUCCEEDED, job.error_message
    return job


# --- cards ----------------------------------------------------------------------------------------------------------


def test_a_new_card_is_made_and_its_page_shows_progress_then_the_four_files(maker, user):
    page = maker.get(reverse("calibrate-card-new") + "?material=slate&mode=atkinson")
    assert page.status_code == 200
    assert 'value="slate" selected' in page.content.decode() and 'value="atkinson" selected' in page.content.decode()
    response = maker.post(reverse("calibrate-card-new"), {**SETUP, "line_interval_mm": ""})
    card = Job.objects.get(owner=user, kind="engrave.card")
    making = maker.get(reverse("calibrate-card", args=[card.pk]))
    assert "Making your card" in text(making) and 'hx-trigger="every 1s"' in making.content.decode()
    assert response["Location"] == reverse("calibrate-card", args=[card.pk])
    run_queued_jobs()
    page = maker.get(reverse("calibrate-card", args=[card.pk]))
    body, words = page.content.decode(), text(page)
    for role in ("png", "gcode", "svg", "card-json"):
        assert f'data-role="{role}"' in body
    assert "Stop a cell that flames" in words and "from straight above" in words and "No glare" not in words
    assert "hx-trigger" not in body  # made: no more polling
    assert maker.get(reverse("calibrate-card-panel", args=[card.pk])).status_code == 200


def test_a_card_that_does_not_fit_the_machine_is_refused_on_the_form(maker, user):
    small = services.machine_profile_save(
        owner=user, values={**MACHINE, "name": "Tiny bed", "work_area_w_mm": "60", "work_area_h_mm": "60"}
    )
    response = maker.post(reverse("calibrate-card-new"), {**SETUP, "machine": f"mine:{small.pk}"})
    assert response.status_code == 200
    assert "The card cannot be made" in text(response) and "form-errors" in response.content.decode()
    assert not Job.objects.filter(owner=user, kind="engrave.card").exists()


def test_the_reading_reports_the_mark_width_against_the_assumption_with_both_plots(maker, reading):
    page = maker.get(reverse("calibrate-reading", args=[reading.pk]))
    words, body = text(page), page.content.decode()
    measured = re.search(r"Your marks are (\d\.\d\d) mm wide; the library assumed (\d\.\d\d) mm", words)
    assert measured, words[:2000]
    assert float(measured.group(1)) == pytest.approx(MARK_MM, abs=0.015)
    assert float(measured.group(2)) == pytest.approx(0.13)  # diode-10w spot 0.08 + birch plywood spread 0.05
    assert "tone-plot" in body and "Tone asked for" in body and "Tone measured" in body
    assert body.count('class="grid-cell') == 25 and body.count("grid-cell is-chosen") == 1
    best = reading.result["best_cell"]
    assert f"{best['power_pct']:.0f} % at {round(best['speed_mm_min'] / 1000, 1):g} m/min" in words
    assert "Save as my calibration" in words and "Record this check" not in words


def test_saving_makes_the_calibration_and_the_list_shows_it_unchecked(maker, user, reading):
    response = maker.post(reverse("calibrate-reading-save", args=[reading.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("calibrate-list")
    profile = CalibrationProfile.objects.get(owner=user)
    page = maker.get(reverse("calibrate-list"))
    words = text(page)
    assert "Birch plywood" in words and "Not checked yet: make a verify card" in words
    assert f"{profile.mark_diameter_mm:.2f} mm" in words
    assert page.content.decode().count("tone-plot") == 1
    assert "Saved as your calibration" in text(maker.get(reverse("calibrate-reading", args=[reading.pk])))


def test_a_verify_card_records_the_check_or_recalibrates(maker, user, reading):
    maker.post(reverse("calibrate-reading-save", args=[reading.pk]))
    profile = CalibrationProfile.objects.get(owner=user)
    response = maker.post(reverse("calibrate-verify-card", args=[profile.pk]))
    card = Job.objects.filter(owner=user, kind="engrave.card").latest("pk")
    assert response["Location"] == reverse("calibrate-card", args=[card.pk])
    run_queued_jobs()
    card.refresh_from_db()
    assert card.params["calibration"]["profile"] == profile.pk
    assert "Verify card" in text(maker.get(reverse("calibrate-card", args=[card.pk])))
    check = read(maker, card, burned_card_photo(card))
    page = text(maker.get(reverse("calibrate-reading", args=[check.pk])))
    assert "Record this check" in page and "Recalibrate from this card" in page
    assert "your calibration assumed" in page
    maker.post(reverse("calibrate-reading-verify", args=[check.pk]))
    profile.refresh_from_db()
    assert profile.verify_error is not None
    assert f"tone within {profile.verify_error * 100:.1f} %" in text(maker.get(reverse("calibrate-list")))


def test_a_refused_photo_shows_its_reason_and_what_to_do(maker):
    card = made_card(maker)
    job = read(maker, card, jpeg_bytes())
    assert job.state == JobState.FAILED
    page = maker.get(reverse("calibrate-reading", args=[job.pk]))
    assert page.status_code == 200
    words = text(page)
    assert "The photo could not be read" in words and job.error_message in words
    assert "Take the photo again" in words and "Save as my calibration" not in words
    assert "Reading of" in text(maker.get(reverse("calibrate-card", args=[card.pk])))  # listed on the card


def test_deleting_a_calibration_asks_first(maker, user, reading):
    maker.post(reverse("calibrate-reading-save", args=[reading.pk]))
    profile = CalibrationProfile.objects.get(owner=user)
    confirm = maker.get(reverse("calibrate-delete", args=[profile.pk]))
    assert confirm.status_code == 200 and "Delete calibration" in text(confirm)
    maker.post(reverse("calibrate-delete", args=[profile.pk]))
    assert not CalibrationProfile.objects.filter(owner=user).exists()


def test_every_page_is_the_owners_alone(maker, client, user, other_user, reading):
    maker.post(reverse("calibrate-reading-save", args=[reading.pk]))
    profile = CalibrationProfile.objects.get(owner=user)
    card = Job.objects.get(owner=user, kind="engrave.card")
    pages = (
        ("calibrate-card", [card.pk]),
        ("calibrate-card-panel", [card.pk]),
        ("calibrate-reading", [reading.pk]),
        ("calibrate-reading-panel", [reading.pk]),
        ("calibrate-delete", [profile.pk]),
    )
    for name, args in (("calibrate-list", []), ("calibrate-card-new", []), *pages):
        assert maker.get(reverse(name, args=args)).status_code == 200, name
    client.force_login(other_user)
    for name, args in pages:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    for name, args in (
        ("calibrate-card-photo", [card.pk]),
        ("calibrate-reading-save", [reading.pk]),
        ("calibrate-reading-verify", [reading.pk]),
        ("calibrate-verify-card", [profile.pk]),
        ("calibrate-delete", [profile.pk]),
    ):
        assert client.post(reverse(name, args=args)).status_code == 404, name
    assert CalibrationProfile.objects.filter(owner=user).exists()
    assert "No calibrations yet" in text(client.get(reverse("calibrate-list")))


# --- the studio -----------------------------------------------------------------------------------------------------


@pytest.fixture
def artwork(user):
    source = asset_ingest_upload(owner=user, upload=jpeg_upload(jpeg_bytes()))
    return services.artwork_create(owner=user, source=source, settings={**SETUP, "width_mm": 60})


def test_the_studio_shows_the_calibration_badge_and_the_choice_to_use_it(maker, user, reading, artwork):
    plain = maker.get(reverse("artwork-studio", args=[artwork.pk]))
    assert "Burn a test card for this material" in text(plain)
    assert reverse("calibrate-card-new") + "?material=birch-plywood&amp;machine=diode-10w" in plain.content.decode()
    maker.post(reverse("calibrate-reading-save", args=[reading.pk]))
    profile = CalibrationProfile.objects.get(owner=user)
    page = maker.get(reverse("artwork-studio", args=[artwork.pk]))
    body = page.content.decode()
    assert re.search(r"Calibrated \d+ \w+ \d{4} from your card", text(page))
    assert f'data-profile="{profile.pk}"' in body and 'name="use_calibration" value="on"' in body
    assert 'id="use_calibration" checked' in body
    # Each live preview brings the note for the form: another mode has no calibration; the box unticked stays unticked.
    fragment = reverse("artwork-preview", args=[artwork.pk])
    other = maker.post(fragment, {**SETUP, "mode": "atkinson", "width_mm": "60", "use_calibration": "on"})
    assert "Burn a test card for this material" in text(other) and "data-profile" not in other.content.decode()
    off = maker.post(fragment, {**SETUP, "width_mm": "60", "use_calibration": "off"})
    assert 'id="use_calibration">' in off.content.decode() and 'hx-swap-oob="true"' in off.content.decode()
    # The choice reaches the settings the studio validates.
    from intaglio.web.engrave.forms import settings_from_form

    assert settings_from_form({**SETUP, "use_calibration": "off"})["use_calibration"] is False
    assert settings_from_form({**SETUP, "use_calibration": ["off", "on"][-1]})["use_calibration"] is True


def calibrated_maker(mark_mm: float, material="maple") -> None:
    maker = make_user()
    CalibrationProfile.objects.create(
        owner=maker,
        material=material,
        machine="diode-10w",
        machine_label="Diode 10 W",
        machine_kind="diode",
        mode="floyd-steinberg",
        line_interval_mm=0.1,
        mark_diameter_mm=mark_mm,
        tone=[[0.25, 0.3], [0.5, 0.6], [0.75, 0.85], [1.0, 1.0]],
        power_pct=70,
        speed_mm_min=3000,
    )
    consent_grant(user=maker, scope="engraved_learning", source="privacy_page")


def test_shared_guidance_is_offered_in_the_studio_and_shown_on_the_material_page(maker, user):
    material_page = reverse("library-material", args=["maple"])
    for mark in (0.15, 0.16, 0.17, 0.18):
        calibrated_maker(mark)
    assert "Measured by" not in text(maker.get(material_page))  # four accounts are not enough
    calibrated_maker(0.19)
    words = text(maker.get(material_page))
    assert "Measured by 5 makers" in words and "0.17 mm" in words and "70 %" in words and "3 m/min" in words

    source = asset_ingest_upload(owner=user, upload=jpeg_upload(jpeg_bytes()))
    artwork = services.artwork_create(
        owner=user, source=source, settings={**SETUP, "material": "maple", "width_mm": 60}
    )
    studio = reverse("artwork-studio", args=[artwork.pk])
    assert "Start from 5 makers’ measurements" in text(maker.get(studio))
    adopted = maker.post(
        reverse("calibrate-guidance-adopt"), {**SETUP, "material": "maple", "line_interval_mm": "", "next": studio}
    )
    assert adopted["Location"] == studio
    profile = CalibrationProfile.objects.get(owner=user)
    assert profile.source == CalibrationProfile.Source.SHARED and profile.mark_diameter_mm == pytest.approx(0.17)
    assert "Started from other makers' measurements" in text(maker.get(studio))
    # No guidance for this setup: nothing to adopt.
    assert maker.post(reverse("calibrate-guidance-adopt"), {**SETUP, "line_interval_mm": ""}).status_code == 404


# --- How did it burn? -----------------------------------------------------------------------------------------------


def piece_photo(version, extra_mm: float) -> bytes:
    """A phone photo of the piece burned from `version`, its marks `extra_mm` wider than the version assumed."""
    from intaglio.assets.storage import blob_open

    with blob_open(version_files(version)["png"].storage_key) as handle:
        burn = np.asarray(Image.open(io.BytesIO(handle.read())).convert("L")) < 128
    return photograph(burned(burn, 0.1, 0.13 + extra_mm))[0]


def test_how_did_it_burn_measures_a_photo_of_a_version_and_can_be_deleted(maker, user, other_user, client):
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.camera()).save(buffer, "JPEG", quality=92)
    source = asset_ingest_upload(owner=user, upload=jpeg_upload(buffer.getvalue()))
    artwork = services.artwork_create(owner=user, source=source)
    version = services.artwork_prepare(artwork=artwork, settings={**SETUP, "width_mm": 60})
    run_queued_jobs()
    studio = maker.get(reverse("artwork-studio", args=[artwork.pk]))
    assert "How did it burn?" in text(studio)
    upload = reverse("artwork-burn-photo", args=[artwork.pk, version.number])
    response = maker.post(upload, {"photo": jpeg_upload(piece_photo(version, 0.06))})
    report = BurnReport.objects.get(owner=user)
    page_url = reverse("artwork-burn-report", args=[artwork.pk, report.pk])
    assert response["Location"] == page_url
    assert "Measuring your photo" in text(maker.get(page_url))
    run_queued_jobs()
    page = maker.get(page_url)
    words, body = text(page), page.content.decode()
    report.refresh_from_db()
    assert report.advice and report.advice[0] in words
    assert "This photo is kept 14 days, or while you let us learn from photos of your engravings" in words
    for band in ("Shadows", "Mid-tones", "Highlights"):
        assert band in words
    assert "Contrast achieved" in words and "Sharpness" in words and "Registration" in words
    side = report.job.outputs.get(role="side-by-side")
    assert reverse("asset-download", args=[side.pk]) in body
    assert "How it burned" in text(maker.get(reverse("artwork-studio", args=[artwork.pk])))

    client.force_login(other_user)
    assert client.get(page_url).status_code == 404
    assert client.post(upload, {"photo": jpeg_upload(jpeg_bytes())}).status_code == 404
    assert client.post(reverse("artwork-burn-delete", args=[artwork.pk, report.pk])).status_code == 404
    client.force_login(user)
    assert maker.get(reverse("artwork-burn-delete", args=[artwork.pk, report.pk])).status_code == 200
    maker.post(reverse("artwork-burn-delete", args=[artwork.pk, report.pk]))
    assert not BurnReport.objects.filter(pk=report.pk).exists()


def test_a_photo_of_something_else_is_refused_with_its_reason(maker, user):
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.camera()).save(buffer, "JPEG", quality=92)
    source = asset_ingest_upload(owner=user, upload=jpeg_upload(buffer.getvalue()))
    artwork = services.artwork_create(owner=user, source=source)
    version = services.artwork_prepare(artwork=artwork, settings={**SETUP, "width_mm": 60})
    run_queued_jobs()
    maker.post(reverse("artwork-burn-photo", args=[artwork.pk, version.number]), {"photo": jpeg_upload(jpeg_bytes())})
    run_queued_jobs()
    report = BurnReport.objects.get(owner=user)
    page = text(maker.get(reverse("artwork-burn-report", args=[artwork.pk, report.pk])))
    report.job.refresh_from_db()
    assert "The photo could not be measured" in page and report.job.error_message in page
