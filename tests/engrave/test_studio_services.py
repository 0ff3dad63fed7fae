"""The engrave studio's services: artworks and versions, the live preview, machine profiles, presets, styles."""

import io

import numpy as np
import pytest
from PIL import Image

from intaglio.assets.scan import storage_scan
from intaglio.credits.models import LedgerEntry
from intaglio.credits.selectors import credit_balance
from intaglio.credits.services import credits_grant_monthly
from intaglio.engrave import services
from intaglio.engrave.models import ArtworkVersion
from intaglio.engrave.selectors import artwork_get, style_pictures, version_files
from intaglio.jobs.models import Job, JobState
from intaglio.jobs.services import job_delete, upload_photo
from tests.factories import run_queued_jobs

SLATE = {"material": "slate", "machine": "diode-10w", "width_mm": 80}


@pytest.fixture
def photo(user):
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.chelsea()).save(buffer, "JPEG", quality=90)
    credits_grant_monthly(user=user, period="2026-11")
    job = upload_photo(owner=user, upload=io.BytesIO(buffer.getvalue()))
    run_queued_jobs()
    return job.inputs.get()


@pytest.fixture
def artwork(user, photo):
    return services.artwork_create(owner=user, source=photo, title="Chelsea")


def test_preview_is_the_real_artwork_and_follows_the_settings(user, photo):
    preview = services.live_preview_render(owner=user, source=photo, settings=SLATE)
    png = Image.open(io.BytesIO(preview.artwork_png))
    # chelsea is 451 × 300: 80 mm at slate's 0.1 mm lines is 800 × 532 dots, previewed dot for dot.
    assert png.mode == "1" and png.size == (800, 532) and preview.full_resolution
    assert (preview.width_px, preview.height_px) == png.size and preview.dpi == pytest.approx(254)
    # Narrower than the canvas: the burn for the fitted view is the dot-for-dot one.
    for picture in (preview.original_jpeg, preview.burn_jpeg, preview.burn_view_jpeg):
        assert Image.open(io.BytesIO(picture)).size == (800, 532)
    # 451 photo pixels stretched over 800 dots: the photo has full detail up to 451 × 0.1 mm.
    assert [w.code for w in preview.warnings] == ["upscaled"]
    assert "enlarged 1.8×" in preview.warnings[0].message and "up to 45 mm wide" in preview.warnings[0].message
    # The same settings come from the cache; a contrast change makes a different artwork.
    again = services.live_preview_render(owner=user, source=photo, settings=SLATE)
    assert again.cached and again.artwork_png is preview.artwork_png and not preview.cached
    contrast = services.live_preview_render(
        owner=user, source=photo, settings={**SLATE, "adjustments": {"contrast": 2}}
    )
    assert contrast.key != preview.key
    before = np.asarray(png)
    after = np.asarray(Image.open(io.BytesIO(contrast.artwork_png)))
    assert (before != after).mean() > 0.05


def test_preview_warns_when_the_piece_does_not_fit_and_prepare_refuses(user, photo, artwork):
    too_big = {"material": "maple", "machine": "fibre-20w", "width_mm": 100, "height_mm": 120}
    preview = services.live_preview_render(owner=user, source=photo, settings=too_big)
    assert any("does not fit" in w.message and "110 × 110 mm" in w.message for w in preview.warnings)
    with pytest.raises(services.StudioRefused) as refused:
        services.artwork_prepare(artwork=artwork, settings=too_big)
    assert refused.value.code == "does_not_fit" and "work area" in refused.value.message
    assert not Job.objects.filter(kind="engrave.prepare").exists()


def test_a_large_piece_is_previewed_at_a_coarser_interval(user, photo):
    big = {"material": "maple", "machine": "co2-100w", "width_mm": 600}
    preview = services.live_preview_render(owner=user, source=photo, settings=big)
    assert not preview.full_resolution and preview.preview_dpi < preview.dpi
    assert preview.width_px == round(600 / services.settings_validate(big, owner=user).line_interval()) > 4000
    width, height = Image.open(io.BytesIO(preview.artwork_png)).size
    assert width * height <= services.LIVE_PREVIEW_MAX_PIXELS
    assert any("preview shows it at" in w.message for w in preview.warnings)
    # The fitted view's burn is the canvas's width, area-averaged; the 1:1 one is the preview's dots.
    assert Image.open(io.BytesIO(preview.burn_view_jpeg)).width == services.LIVE_PREVIEW_VIEW_PX
    assert Image.open(io.BytesIO(preview.burn_jpeg)).size == (width, height)


def _codes(preview) -> list[str]:
    return [warning.code for warning in preview.warnings]


def test_preview_warns_about_a_burn_that_would_be_wasted(user, photo):
    # Chelsea as bright as it goes: on maple (marks darker than the wood) no dot fires; on slate, whose marks
    # are lighter than the stone, the same picture is inverted and every dot fires.
    bright = {**SLATE, "adjustments": {"brightness": 1}}
    blank = services.live_preview_render(owner=user, source=photo, settings={**bright, "material": "maple"})
    assert "nothing_burns" in _codes(blank) and Image.open(io.BytesIO(blank.artwork_png)).getextrema() == (255, 255)
    solid = services.live_preview_render(owner=user, source=photo, settings=bright)
    assert "everything_burns" in _codes(solid) and "nothing_burns" not in _codes(solid)
    assert (np.asarray(Image.open(io.BytesIO(solid.artwork_png))) == 0).mean() > 0.99  # black: the laser fires
    # A diode cannot mark glass: the preview says why before anything is prepared.
    glass = services.live_preview_render(owner=user, source=photo, settings={**SLATE, "material": "glass"})
    unusable = [w for w in glass.warnings if w.code == "unusable"]
    assert unusable and "diode" in unusable[0].message
    # Small enough for the photo's own pixels: no enlargement to warn about, nor anything else.
    small = services.live_preview_render(owner=user, source=photo, settings={**SLATE, "width_mm": 40})
    assert _codes(small) == []


def test_invalid_settings_are_refused_with_the_field(user, photo):
    with pytest.raises(services.StudioRefused) as refused:
        services.live_preview_render(owner=user, source=photo, settings={**SLATE, "adjustments": {"gamma": 50}})
    assert refused.value.code == "invalid_settings" and "adjustments.gamma" in refused.value.message


def test_each_prepare_is_a_new_version_with_its_own_files(user, artwork):
    first = services.artwork_prepare(artwork=artwork, settings=SLATE)
    second = services.artwork_prepare(artwork=artwork, settings={**SLATE, "adjustments": {"contrast": 1.5}})
    assert (first.number, second.number) == (1, 2)
    assert credit_balance(user=user) == 18
    run_queued_jobs()
    artwork = artwork_get(owner=user, artwork_id=artwork.pk)
    versions = list(artwork.versions.all())
    assert [v.number for v in versions] == [2, 1]
    for version in versions:
        files = version_files(version)
        assert set(files) == {"png", "svg", "gcode", "burn-preview"}
        assert files["png"].download_name.endswith("-slate-80x53mm-floyd-steinberg.png")
    assert versions[0].settings["adjustments"]["contrast"] == 1.5
    assert artwork.settings["adjustments"]["contrast"] == 1.5  # the studio reopens on the last settings
    again = services.artwork_prepare(artwork=artwork, settings=SLATE, idempotency_key="same")
    repeat = services.artwork_prepare(artwork=artwork, settings=SLATE, idempotency_key="same")
    assert repeat.pk == again.pk and ArtworkVersion.objects.filter(artwork=artwork).count() == 3
    # The same key on another artwork is another version, never this artwork's job.
    other = services.artwork_create(owner=user, source=artwork.source)
    elsewhere = services.artwork_prepare(artwork=other, settings=SLATE, idempotency_key="same")
    assert elsewhere.job_id != again.job_id and elsewhere.artwork_id == other.pk


def test_deleting_an_artwork_removes_every_versions_files_and_leaves_no_orphans(user, photo, artwork):
    services.artwork_prepare(artwork=artwork, settings=SLATE)
    services.artwork_prepare(artwork=artwork, settings={**SLATE, "mode": "jarvis"})
    run_queued_jobs()  # the free plan runs two jobs at a time
    services.artwork_styles(artwork=artwork)
    run_queued_jobs()
    scan = storage_scan()
    assert scan.blobs == 3 + 2 * 4 + 4 and not scan.orphan_blobs and not scan.missing_blobs
    services.artwork_delete(artwork=artwork)
    scan = storage_scan()
    # Only the upload remains: the photo and its thumbnail and web preview.
    assert scan.blobs == 3 and not scan.orphan_blobs and not scan.missing_blobs
    photo.refresh_from_db()
    assert not Job.objects.filter(kind__startswith="engrave.").exists()


def test_an_artwork_outlives_its_photo_but_cannot_make_new_versions(user, photo, artwork):
    services.artwork_prepare(artwork=artwork, settings=SLATE)
    run_queued_jobs()
    upload_job = Job.objects.get(kind="preview")
    job_delete(job=upload_job)  # the photo stays: the artwork's version still uses it
    photo.refresh_from_db()
    artwork.refresh_from_db()
    assert artwork.source_id == photo.pk
    from intaglio.assets.services import asset_delete_blobs

    photo.delete()  # as the retention sweeper does: the row and its blob
    asset_delete_blobs([photo.storage_key])
    artwork.refresh_from_db()
    assert artwork.source is None and artwork.versions.count() == 1
    with pytest.raises(services.StudioRefused) as refused:
        services.artwork_prepare(artwork=artwork, settings=SLATE)
    assert refused.value.code == "source_gone" and refused.value.status == 409


def test_a_machine_profile_is_frozen_into_the_job(user, photo, artwork):
    profile = services.machine_profile_save(
        owner=user,
        values={
            "name": "Garage diode",
            "kind": "diode",
            "power_w": 5.5,
            "spot_mm": 0.1,
            "line_interval_mm": 0.1,
            "max_feed_mm_min": 6000,
            "work_area_w_mm": 60,
            "work_area_h_mm": 60,
        },
    )
    settings = {"material": "maple", "machine_profile": profile.pk, "width_mm": 50}
    version = services.artwork_prepare(artwork=artwork, settings=settings)
    assert version.settings["machine_spec"]["label"] == "Garage diode" and version.settings["machine"] is None
    services.machine_profile_save(
        owner=user,
        profile=profile,
        values={**profile.spec(), "name": "Renamed", "work_area_w_mm": 40, "work_area_h_mm": 40},
    )
    run_queued_jobs()
    version.job.refresh_from_db()
    assert version.job.state == JobState.SUCCEEDED, version.job.error_detail
    gcode = version_files(ArtworkVersion.objects.get(pk=version.pk))["gcode"]
    from intaglio.assets.storage import blob_open

    with blob_open(gcode.storage_key) as handle:
        assert b"Garage diode" in handle.read(400)
    with pytest.raises(services.StudioRefused) as too_wide:
        services.artwork_prepare(artwork=artwork, settings={**settings, "width_mm": 70})
    assert too_wide.value.code == "does_not_fit" and "40 × 40 mm" in too_wide.value.message
    with pytest.raises(services.StudioRefused) as duplicate:
        services.machine_profile_save(
            owner=user, values={**profile.spec(), "name": "Renamed", "work_area_w_mm": 40, "work_area_h_mm": 40}
        )
    assert duplicate.value.status == 409
    with pytest.raises(services.StudioRefused) as bad:
        services.machine_profile_save(owner=user, values={"name": "x", "kind": "plasma", "power_w": -1})
    assert bad.value.code == "invalid_machine" and "kind" in bad.value.message


def test_someone_elses_profile_or_photo_is_not_usable(user, other_user, photo):
    theirs = services.machine_profile_save(
        owner=other_user,
        values={
            "name": "Theirs",
            "kind": "co2",
            "power_w": 40,
            "spot_mm": 0.15,
            "max_feed_mm_min": 20000,
            "work_area_w_mm": 300,
            "work_area_h_mm": 200,
        },
    )
    with pytest.raises(services.StudioRefused):
        services.live_preview_render(
            owner=user, source=photo, settings={"material": "maple", "machine_profile": theirs.pk, "width_mm": 50}
        )
    with pytest.raises(services.StudioRefused) as not_theirs:
        services.live_preview_render(owner=other_user, source=photo, settings=SLATE)
    assert not_theirs.value.status == 404
    with pytest.raises(services.StudioRefused):
        services.artwork_create(owner=other_user, source=photo)


def test_material_presets_are_checked_and_named_once(user):
    preset = services.material_preset_save(
        owner=user,
        values={
            "name": "Dark walnut portrait",
            "material": "walnut",
            "mode": "jarvis",
            "adjustments": {"contrast": 1.3, "gamma": 0.9},
        },
    )
    assert preset.adjustments == {"contrast": 1.3, "gamma": 0.9} and preset.mode == "jarvis"
    with pytest.raises(services.StudioRefused) as unknown:
        services.material_preset_save(owner=user, values={"name": "x", "material": "marble"})
    assert "unknown material" in unknown.value.message
    with pytest.raises(services.StudioRefused) as duplicate:
        services.material_preset_save(owner=user, values={"name": "Dark walnut portrait", "material": "maple"})
    assert duplicate.value.code == "duplicate_name"


def test_the_style_gallery_renders_each_style_on_the_photo(user, artwork):
    job = services.artwork_styles(artwork=artwork, settings=SLATE)
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_detail
    # Looking at styles is free: the gallery leaves no mark on the credit ledger, while a version is charged.
    assert credit_balance(user=user) == 20 and job.credits_reserved == 0
    assert not LedgerEntry.objects.filter(job=job).exists()
    version = services.artwork_prepare(artwork=artwork, settings=SLATE)
    assert credit_balance(user=user) == 19
    assert LedgerEntry.objects.filter(job=version.job, kind="reserve").get().credits == 1
    previews = style_pictures(job)
    assert list(previews) == ["sketch", "stipple", "hatch", "halftone"]
    pictures = [np.asarray(Image.open(io.BytesIO(_read(asset))).convert("L")) for asset in previews.values()]
    assert all(p.shape == (532, 800) for p in pictures)
    # Four different pictures, not one repeated.
    assert min(np.abs(a.astype(int) - b).mean() for i, a in enumerate(pictures) for b in pictures[i + 1 :]) > 5
    # A new gallery replaces the old one and its files.
    old_keys = [asset.storage_key for asset in previews.values()]
    services.artwork_styles(artwork=artwork)
    assert not Job.objects.filter(pk=job.pk).exists()
    assert storage_scan().blobs == 3 and old_keys


def _read(asset) -> bytes:
    from intaglio.assets.storage import blob_open

    with blob_open(asset.storage_key) as handle:
        return handle.read()
