"""The engrave studio pages: artwork list, new artwork, the studio with its live preview, versions, styles, delete."""

import io
import re

import pytest
from PIL import Image

from intaglio.credits.services import credits_grant_monthly
from intaglio.engrave import services
from intaglio.engrave.models import Artwork
from intaglio.jobs.services import upload_photo
from tests.factories import run_queued_jobs

FORM = {
    "material": "slate",
    "machine": "diode-10w",
    "width_mm": "80",
    "fit": "crop",
    "mode": "floyd-steinberg",
    "contrast": "1.0",
    "serpentine": "on",
}


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
    return services.artwork_create(owner=user, source=photo, title="Chelsea on slate")


def _data_image(html: str, element_id: str) -> Image.Image:
    import base64

    match = re.search(rf'id="{element_id}" src="data:image/\w+;base64,([^"]+)"', html)
    assert match, f"no {element_id} image in the fragment"
    return Image.open(io.BytesIO(base64.b64decode(match.group(1))))


def test_new_artwork_from_a_photo_opens_the_studio(logged_in, user, photo):
    page = logged_in.get("/engrave/new/")
    assert page.status_code == 200 and f'value="{photo.pk}"' in page.content.decode()
    created = logged_in.post("/engrave/new/", {"photo": photo.pk})
    artwork = Artwork.objects.get(owner=user)
    assert created.status_code == 302 and created["Location"] == f"/engrave/{artwork.pk}/"
    studio = logged_in.get(created["Location"]).content.decode()
    assert f'hx-post="/engrave/{artwork.pk}/preview/"' in studio
    assert "1 credit</strong> · you have 20" in studio  # the price before confirming
    listing = logged_in.get("/engrave/").content.decode()
    assert artwork.title in listing


def test_the_preview_follows_the_form_and_is_remembered(logged_in, artwork):
    first = logged_in.post(f"/engrave/{artwork.pk}/preview/", FORM).content.decode()
    art = _data_image(first, "preview-artwork")
    assert art.size == (800, 532) and art.mode == "1"
    assert "254 DPI" in first and "80.0 × 53.2 mm" in first
    changed = logged_in.post(f"/engrave/{artwork.pk}/preview/", {**FORM, "contrast": "2.2"}).content.decode()
    assert _data_image(changed, "preview-artwork").tobytes() != art.tobytes()
    artwork.refresh_from_db()
    assert artwork.settings["adjustments"]["contrast"] == 2.2 and artwork.settings["material"] == "slate"
    studio = logged_in.get(f"/engrave/{artwork.pk}/").content.decode()
    assert 'value="slate" selected' in studio and 'id="contrast" name="contrast"' in studio
    assert re.search(r'id="contrast"[^>]*value="2.2"', studio)


def test_bad_settings_and_a_piece_too_big_are_explained_in_the_preview(logged_in, artwork):
    bad = logged_in.post(f"/engrave/{artwork.pk}/preview/", {**FORM, "width_mm": "wide"}).content.decode()
    assert "notice-error" in bad and "width_mm" in bad
    too_big = logged_in.post(
        f"/engrave/{artwork.pk}/preview/", {**FORM, "machine": "fibre-20w", "width_mm": "150"}
    ).content.decode()
    assert "does not fit" in too_big and "110 × 110 mm work area" in too_big
    refused = logged_in.post(f"/engrave/{artwork.pk}/prepare/", {**FORM, "machine": "fibre-20w", "width_mm": "150"})
    assert refused.status_code == 302
    assert "does not fit" in logged_in.get(refused["Location"]).content.decode()
    assert artwork.versions.count() == 0


def test_prepare_makes_versions_with_downloads(logged_in, artwork):
    response = logged_in.post(f"/engrave/{artwork.pk}/prepare/", {**FORM, "idempotency_key": "k1"})
    assert response.status_code == 302 and response["Location"].endswith("#versions")
    logged_in.post(f"/engrave/{artwork.pk}/prepare/", {**FORM, "idempotency_key": "k1"})  # a double click
    assert artwork.versions.count() == 1
    polling = logged_in.get(f"/engrave/{artwork.pk}/versions/").content.decode()
    assert 'hx-trigger="every 1s"' in polling and "Queued" in polling
    run_queued_jobs()
    done = logged_in.get(f"/engrave/{artwork.pk}/versions/").content.decode()
    assert 'hx-trigger="none"' in done and "Version 1" in done
    for role in ("png", "svg", "gcode", "lbrn2", "burn-preview"):
        assert f'data-role="{role}"' in done
    assert "burns in about " in done and "% at " in done
    assert "-slate-80x53mm-floyd-steinberg.png" in done
    logged_in.post(f"/engrave/{artwork.pk}/prepare/", {**FORM, "mode": "jarvis", "idempotency_key": "k2"})
    run_queued_jobs()
    history = logged_in.get(f"/engrave/{artwork.pk}/versions/").content.decode()
    assert history.index("Version 2") < history.index("Version 1") and "Jarvis" in history


def test_style_gallery_and_choosing_a_style(logged_in, artwork):
    page = logged_in.get(f"/engrave/{artwork.pk}/styles/").content.decode()
    assert "Draw the four styles" in page and "<strong>Free</strong>" in page and "1 credit</strong>" not in page
    logged_in.post(f"/engrave/{artwork.pk}/styles/")
    assert 'hx-trigger="every 1s"' in logged_in.get(f"/engrave/{artwork.pk}/styles/panel/").content.decode()
    run_queued_jobs()
    gallery = logged_in.get(f"/engrave/{artwork.pk}/styles/").content.decode()
    for label in ("Line art", "Stipple", "Hatch engraving", "Halftone portrait"):
        assert f"Your photo as {label.lower()}" in gallery
    chosen = logged_in.post(f"/engrave/{artwork.pk}/styles/use/", {"style": "hatch"})
    assert chosen.status_code == 302
    artwork.refresh_from_db()
    assert artwork.settings["mode"] == "hatch"


def test_delete_asks_first_then_removes_everything(logged_in, artwork):
    logged_in.post(f"/engrave/{artwork.pk}/prepare/", FORM)
    run_queued_jobs()
    confirm = logged_in.get(f"/engrave/{artwork.pk}/delete/").content.decode()
    assert "5 files" in confirm and Artwork.objects.filter(pk=artwork.pk).exists()
    gone = logged_in.post(f"/engrave/{artwork.pk}/delete/")
    assert gone.status_code == 302 and not Artwork.objects.filter(pk=artwork.pk).exists()


def test_someone_elses_artwork_is_not_found_and_anonymous_goes_to_login(client, other_user, artwork):
    client.force_login(other_user)
    for path in ("", "versions/", "styles/", "delete/"):
        assert client.get(f"/engrave/{artwork.pk}/{path}").status_code == 404
    assert client.post(f"/engrave/{artwork.pk}/preview/", FORM).status_code == 404
    assert client.post("/engrave/new/", {"photo": artwork.source_id}).status_code == 404
    client.logout()
    assert client.get(f"/engrave/{artwork.pk}/")["Location"].startswith("/login/")


def test_the_photos_job_page_starts_an_artwork(logged_in, user, photo):
    upload_job = photo.input_of.get()
    page = logged_in.get(f"/jobs/{upload_job.pk}/").content.decode()
    assert "Make laser artwork" in page and f'name="photo" value="{photo.pk}"' in page
    started = logged_in.post("/engrave/new/", {"photo": photo.pk})
    assert started["Location"] == f"/engrave/{Artwork.objects.get(owner=user).pk}/"


def test_an_uploads_name_follows_the_photo_the_artwork_and_the_downloads(logged_in, user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from intaglio.assets.models import Asset, AssetKind
    from tests.factories import jpeg_bytes

    credits_grant_monthly(user=user, period="2026-11")
    upload = SimpleUploadedFile("my-dog.jpg", jpeg_bytes(500, 400), content_type="image/jpeg")
    assert logged_in.post("/uploads/", {"file": [upload]}, HTTP_ACCEPT="application/json").status_code == 201
    run_queued_jobs()
    photo = Asset.objects.get(owner=user, kind=AssetKind.SOURCE_PHOTO)
    assert (photo.title, photo.download_name) == ("my-dog", "my-dog.jpg")
    # The dashboard lists the photo by name, apart from the jobs.
    dashboard = logged_in.get("/dashboard/").content.decode()
    photos = dashboard[dashboard.index('id="photo-list"') : dashboard.index('id="job-list"')]
    assert ">my-dog</p>" in photos and "Make artwork" in photos
    assert "my-dog" in logged_in.get("/engrave/new/").content.decode()

    logged_in.post("/engrave/new/", {"photo": photo.pk})
    artwork = Artwork.objects.get(owner=user)
    assert artwork.title == "my-dog" and ">my-dog</a>" in logged_in.get("/engrave/").content.decode()
    birch = {**FORM, "material": "birch-plywood", "width_mm": "100"}
    logged_in.post(f"/engrave/{artwork.pk}/prepare/", {**birch, "idempotency_key": "v1"})
    run_queued_jobs()
    first = {asset.download_name for asset in artwork.versions.get(number=1).job.outputs.all()}
    assert "my-dog-birch-plywood-100x80mm-floyd-steinberg.png" in first
    assert (
        'download="my-dog-birch-plywood-100x80mm-floyd-steinberg.svg"'
        in logged_in.get(f"/engrave/{artwork.pk}/versions/").content.decode()
    )

    # Renamed, the artwork names the files made from now on; the files already made keep their names.
    assert logged_in.post(f"/engrave/{artwork.pk}/rename/", {"title": "  Rex in the garden "}).status_code == 302
    artwork.refresh_from_db()
    assert artwork.title == "Rex in the garden"
    studio = logged_in.get(f"/engrave/{artwork.pk}/").content.decode()
    assert re.search(r"<h1[^>]*>Rex in the garden</h1>", studio)
    logged_in.post(f"/engrave/{artwork.pk}/prepare/", {**birch, "idempotency_key": "v2"})
    run_queued_jobs()
    second = {asset.download_name for asset in artwork.versions.get(number=2).job.outputs.all()}
    assert "rex-in-the-garden-birch-plywood-100x80mm-floyd-steinberg.gcode" in second
    assert {asset.download_name for asset in artwork.versions.get(number=1).job.outputs.all()} == first

    # The photo is renamed on the dashboard; a blank name is refused and changes nothing.
    refused = logged_in.post(f"/photos/{photo.pk}/rename/", {"title": " \t "}, follow=True).content.decode()
    assert "Give the photo a name." in refused
    logged_in.post(f"/photos/{photo.pk}/rename/", {"title": "Rex, 2024"})
    photo.refresh_from_db()
    assert (photo.title, photo.download_name) == ("Rex, 2024", "rex-2024.jpg")
    assert ">Rex, 2024</p>" in logged_in.get("/photos/").content.decode()


def _slider(page: str, name: str) -> tuple[str, bool]:
    """A slider's value on the studio page, and whether it is shown as the material's default."""
    match = re.search(rf'<div class="field slider( is-default)?">\s*<label for="{name}">.*?value="([^"]+)"', page, re.S)
    assert match, f"no {name} slider"
    return match.group(2), bool(match.group(1))


def test_unmoved_sliders_follow_the_material_and_moved_ones_are_kept(logged_in, artwork):
    from intaglio.web.engrave.presenters import slider_defaults

    slate, birch = slider_defaults()["slate"], slider_defaults()["birch-plywood"]
    assert slate["contrast"] != birch["contrast"] and slate["clahe"] != birch["clahe"]
    studio = logged_in.get(f"/engrave/{artwork.pk}/").content.decode()  # a new artwork: birch, nothing moved
    assert _slider(studio, "contrast") == (f"{birch['contrast']:g}", True)
    assert 'name="adjusted" value=""' in studio
    # The page switched to slate and moved gamma only: birch's slider values are still in the form, but only
    # the moved gamma is set; the rest fall back to slate's own defaults.
    form = {**FORM, "material": "slate", "contrast": f"{birch['contrast']:g}", "gamma": "1.4", "adjusted": "gamma"}
    logged_in.post(f"/engrave/{artwork.pk}/preview/", form)
    artwork.refresh_from_db()
    adjustments = {k: v for k, v in artwork.settings["adjustments"].items() if v is not None}
    assert adjustments == {"gamma": 1.4, "invert": False, "isolate_subject": False}
    studio = logged_in.get(f"/engrave/{artwork.pk}/").content.decode()
    for name in ("contrast", "clahe", "denoise", "sharpen_amount"):
        assert _slider(studio, name) == (f"{slate[name]:g}", True), name
    assert _slider(studio, "gamma") == ("1.4", False) and 'name="adjusted" value="gamma"' in studio
    # The same picture as slate with its defaults sent explicitly: unset really is the material's default.
    unset = logged_in.post(f"/engrave/{artwork.pk}/preview/", form).content.decode()
    explicit = {**form, **{k: f"{v:g}" for k, v in slate.items()}, "gamma": "1.4", "adjusted": ",".join(slate)}
    explicit_art = _data_image(
        logged_in.post(f"/engrave/{artwork.pk}/preview/", explicit).content.decode(), "preview-artwork"
    )
    assert _data_image(unset, "preview-artwork").tobytes() == explicit_art.tobytes()
    birchy = {**form, "adjusted": "gamma,contrast"}  # birch's contrast, moved this time, is kept
    birch_art = _data_image(
        logged_in.post(f"/engrave/{artwork.pk}/preview/", birchy).content.decode(), "preview-artwork"
    )
    assert birch_art.tobytes() != explicit_art.tobytes()
    # Without the studio's script (no "adjusted" field) every slider sent is taken as set, as before.
    logged_in.post(f"/engrave/{artwork.pk}/preview/", {k: v for k, v in form.items() if k != "adjusted"})
    artwork.refresh_from_db()
    assert artwork.settings["adjustments"]["contrast"] == birch["contrast"]


def test_save_as_preset_keeps_the_moved_sliders_and_the_studio_offers_it(logged_in, user, artwork):
    from intaglio.engrave.models import MaterialPreset

    form = {**FORM, "material": "slate", "mode": "jarvis", "gamma": "1.4", "contrast": "1.1", "adjusted": "gamma"}
    saved = logged_in.post(f"/engrave/{artwork.pk}/preset/", {**form, "preset_name": " Slate portraits "}, follow=True)
    assert "Saved the preset “Slate portraits”" in saved.content.decode()
    preset = MaterialPreset.objects.get(owner=user)
    assert (preset.name, preset.material, preset.mode) == ("Slate portraits", "slate", "jarvis")
    assert {k: v for k, v in preset.adjustments.items() if k in ("gamma", "contrast")} == {"gamma": 1.4}
    studio = saved.content.decode()
    assert f'data-preset="{preset.pk}"' in studio and 'id="studio-presets"' in studio
    # Without the page's script only the name comes: the artwork's saved settings are used.
    logged_in.post(f"/engrave/{artwork.pk}/preset/", {"preset_name": "As saved"})
    assert MaterialPreset.objects.get(owner=user, name="As saved").material == artwork.settings["material"]
    duplicate = logged_in.post(
        f"/engrave/{artwork.pk}/preset/", {**form, "preset_name": "Slate portraits"}, follow=True
    )
    assert "already have a preset called" in duplicate.content.decode()


def test_glass_on_a_diode_is_explained_in_the_preview_and_refused_when_prepared(logged_in, artwork):
    from intaglio.imaging.artwork import laser_problem

    reason = laser_problem("glass", "diode-10w")
    glass = {**FORM, "material": "glass"}
    preview = logged_in.post(f"/engrave/{artwork.pk}/preview/", glass).content.decode()
    assert "has no suggested settings for a diode laser" in preview
    refused = logged_in.post(f"/engrave/{artwork.pk}/prepare/", glass)
    assert refused.status_code == 302
    page = logged_in.get(refused["Location"]).content.decode()
    assert "has no suggested settings for a diode laser" in page and "passes through clear glass" in page
    assert "passes through clear glass" in reason
    assert artwork.versions.count() == 0


def test_the_form_carries_laser_and_layout_fields_and_blank_ones_follow_the_material(logged_in, artwork):
    form = {
        **FORM,
        "laser_power_pct": "",
        "laser_speed_mm_min": "1800",
        "laser_passes": "2",
        "laser_air_assist": "off",
        "laser_scan": "horizontal",
        "layout_crop": "0.1, 0, 0.8,1",
        "layout_rotate_deg": "90",
        "layout_mirror": "on",
        "layout_mask": "oval",
        "layout_anchor": "center",
        "layout_offset_x_mm": "5",
        "layout_offset_y_mm": "",
    }
    logged_in.post(f"/engrave/{artwork.pk}/preview/", form)
    artwork.refresh_from_db()
    assert artwork.settings["laser"] == {"speed_mm_min": 1800, "passes": 2, "air_assist": False, "scan": "horizontal"}
    assert artwork.settings["layout"] == {
        "crop": [0.1, 0.0, 0.8, 1.0],
        "rotate_deg": 90,
        "mirror": True,
        "mask": "oval",
        "mask_edge": "hard",
        "anchor": "center",
        "offset_mm": [5.0, 0.0],
    }
    bad = logged_in.post(f"/engrave/{artwork.pk}/preview/", {**form, "layout_rotate_deg": "45"}).content.decode()
    assert "notice-error" in bad and "rotate_deg" in bad


def _preview_laser(html: str) -> dict:
    import json

    match = re.search(r'<script id="preview-laser" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no laser state in the preview"
    return json.loads(match.group(1))


def test_the_studio_shows_the_laser_values_their_sources_and_the_burn_time(logged_in, artwork):
    form = {**FORM, "material": "birch-plywood", "laser_speed_mm_min": "", "laser_passes": "2"}
    slow = logged_in.post(f"/engrave/{artwork.pk}/preview/", form).content.decode()
    state = _preview_laser(slow)
    assert state["refusal"] is None
    assert state["laser"]["passes"] == {"value": 2, "source": "you", "label": "you"}
    assert state["laser"]["power_pct"]["source"] == "suggestion"
    assert "scaled to" in state["laser"]["power_pct"]["label"]
    followed = state["laser"]["speed_mm_min"]["value"]
    seconds = float(re.search(r'id="burn-time" data-seconds="([\d.]+)">about ', slow).group(1))
    # Twice the speed: the estimate must shrink (acceleration and travel keep it above half).
    fast = logged_in.post(
        f"/engrave/{artwork.pk}/preview/", {**form, "laser_speed_mm_min": str(2 * followed)}
    ).content.decode()
    assert _preview_laser(fast)["laser"]["speed_mm_min"]["source"] == "you"
    faster = float(re.search(r'id="burn-time" data-seconds="([\d.]+)"', fast).group(1))
    assert seconds / 2 < faster < seconds

    glass = logged_in.post(f"/engrave/{artwork.pk}/preview/", {**FORM, "material": "glass"}).content.decode()
    refused = _preview_laser(glass)
    assert refused["laser"] is None and refused["refusal"][0] == "unusable_combination"
    assert 'id="burn-time"' not in glass


def test_the_studio_reopens_with_its_laser_and_layout_and_offers_the_whole_photo_to_crop(logged_in, artwork, photo):
    form = {
        **FORM,
        "laser_speed_mm_min": "1800",
        "laser_air_assist": "on",
        "layout_crop": "0.1,0.2,0.5,0.6",
        "layout_rotate_deg": "270",
        "layout_mirror": "on",
        "layout_mask": "oval",
        "layout_mask_edge": "soft",
        "layout_anchor": "top-right",
        "layout_offset_x_mm": "-4",
        "layout_offset_y_mm": "2.5",
    }
    logged_in.post(f"/engrave/{artwork.pk}/preview/", form)
    page = logged_in.get(f"/engrave/{artwork.pk}/").content.decode()
    assert re.search(r'name="laser_speed_mm_min"[^>]*value="1800"', page)
    assert re.search(r'name="laser_power_pct"[^>]*value=""', page)  # unset: follows its source
    assert '<option value="on" selected>' in page
    assert 'id="layout_crop" value="0.1,0.2,0.5,0.6"' in page and 'id="layout_rotate_deg" value="270"' in page
    assert re.search(r'name="layout_mirror" id="layout_mirror" checked', page)
    assert '<option value="oval" selected>' in page and '<option value="soft" selected>' in page
    assert '<input type="radio" name="layout_anchor" value="top-right" checked>' in page
    assert 'value="-4"' in page and 'value="2.5"' in page
    # The crop picker gets the whole photo, upright and uncropped, at the photo's own shape.
    url = re.search(r'<div class="crop-picker"[^>]*>\s*<img src="([^"]+)" width="(\d+)" height="(\d+)"', page)
    assert url and "?" not in url.group(1)
    picture = Image.open(io.BytesIO(logged_in.get(url.group(1)).content))
    assert picture.size == (int(url.group(2)), int(url.group(3)))
    assert abs(picture.size[0] / picture.size[1] - photo.width / photo.height) < 0.01
