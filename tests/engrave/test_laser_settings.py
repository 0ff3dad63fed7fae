"""Laser settings and layout in the studio's settings: where each value comes from, refusals of what cannot burn,
and the prepare job's files (G-code, LightBurn project) and burn time honouring them."""

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from intaglio.credits.services import credits_grant_monthly
from intaglio.engrave import services
from intaglio.engrave.errors import StudioRefused
from intaglio.engrave.models import CalibrationProfile
from intaglio.engrave.params import ArtworkSettings
from intaglio.engrave.selectors import version_files
from intaglio.imaging.artwork import (
    Layout,
    estimate_burn_time,
    get_machine,
    laser_problem,
    outputs,
    prepare_artwork,
    suggest_laser_settings,
)
from intaglio.jobs.models import JobState
from intaglio.jobs.services import JobRefused, job_create, upload_photo
from tests.factories import run_queued_jobs

BIRCH = {"material": "birch-plywood", "machine": "diode-10w", "width_mm": 60}
GLASS_ON_DIODE = {"material": "glass", "machine": "diode-10w", "width_mm": 60}


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


def read(asset) -> bytes:
    from intaglio.assets.storage import blob_open

    with blob_open(asset.storage_key) as handle:
        return handle.read()


def _calibration(user, settings: dict, **fields) -> CalibrationProfile:
    clean = ArtworkSettings.model_validate(settings, strict=False)
    return CalibrationProfile.objects.create(
        owner=user,
        material=clean.material,
        machine=clean.machine,
        machine_label="Diode 10 W",
        machine_kind="diode",
        mode=clean.mode,
        line_interval_mm=round(clean.line_interval(), 4),
        mark_diameter_mm=0.15,
        tone=[[0.25, 0.3], [0.5, 0.6], [0.75, 0.85], [1.0, 1.0]],
        **fields,
    )


# ------------------------------------------------------------------------------------------------- sources


def test_without_calibration_every_value_is_the_material_suggestion_scaled_to_the_machine():
    for machine in ("diode-10w", "diode-5w", "co2-60w"):
        effective = ArtworkSettings.model_validate({**BIRCH, "machine": machine}).effective_laser()
        suggested = suggest_laser_settings("birch-plywood", machine)
        assert effective.settings == suggested
        label = get_machine(machine).label
        for value in effective.as_json().values():
            assert value["source"] == "suggestion" and value["label"] == f"material suggestion scaled to {label}"


def test_a_calibration_profile_gives_power_and_speed(user):
    _calibration(user, BIRCH, power_pct=55.0, speed_mm_min=2400.0)
    clean = services.settings_validate(BIRCH, owner=user)
    laser = clean.effective_laser().as_json()
    assert (laser["power_pct"]["value"], laser["speed_mm_min"]["value"]) == (55.0, 2400.0)
    assert laser["power_pct"]["source"] == laser["speed_mm_min"]["source"] == "calibration"
    assert laser["power_pct"]["label"] == "your calibration profile"
    # The run-up follows the calibrated speed; passes and air stay the suggestion's.
    assert laser["overscan_mm"]["source"] == "speed"
    assert laser["overscan_mm"]["value"] == pytest.approx(
        (2400 / 60) ** 2 / (2 * get_machine("diode-10w").accel_mm_s2), abs=0.5
    )
    assert laser["passes"]["source"] == "suggestion"
    # Off, or for another mode (another profile's match), the suggestion again.
    off = services.settings_validate({**BIRCH, "use_calibration": False}, owner=user).effective_laser()
    assert off.sources["power_pct"] == "suggestion" and off.settings.power_pct != 55.0
    jarvis = services.settings_validate({**BIRCH, "mode": "jarvis"}, owner=user).effective_laser()
    assert jarvis.sources["speed_mm_min"] == "suggestion"


def test_a_calibration_without_power_and_speed_leaves_them_to_the_suggestion(user):
    _calibration(user, BIRCH)
    clean = services.settings_validate(BIRCH, owner=user)
    assert clean.calibration is not None
    assert clean.effective_laser().sources["power_pct"] == "suggestion"


def test_values_you_set_are_yours_over_calibration_and_suggestion(user):
    _calibration(user, BIRCH, power_pct=55.0, speed_mm_min=2400.0)
    laser = {"power_pct": 42.0, "passes": 3, "overscan_mm": 4.0, "air_assist": False, "scan": "horizontal"}
    effective = services.settings_validate({**BIRCH, "laser": laser}, owner=user).effective_laser()
    assert effective.settings.power_pct == 42.0 and effective.settings.passes == 3
    assert effective.settings.overscan_mm == 4.0 and not effective.settings.air_assist
    assert not effective.settings.bidirectional
    assert effective.sources == {
        "power_pct": "you",
        "speed_mm_min": "calibration",
        "passes": "you",
        "overscan_mm": "you",
        "air_assist": "you",
        "scan": "you",
    }


# ------------------------------------------------------------------------------------------------ refusals


def test_glass_on_a_diode_is_refused_with_the_engines_reason(user, artwork):
    reason = laser_problem("glass", "diode-10w")
    with pytest.raises(StudioRefused) as refused:
        services.artwork_prepare(artwork=artwork, settings=GLASS_ON_DIODE)
    assert refused.value.code == "unusable_combination" and refused.value.message == reason
    assert refused.value.status == 422 and artwork.versions.count() == 0
    with pytest.raises(JobRefused) as queued:
        job_create(owner=user, kind="engrave.prepare", params=GLASS_ON_DIODE, inputs=[artwork.source])
    assert queued.value.code == "invalid_params" and reason in queued.value.message


def test_the_preview_shows_why_glass_on_a_diode_wont_burn(user, artwork):
    preview = services.live_preview_render(owner=user, source=artwork.source, settings=GLASS_ON_DIODE)
    reason = laser_problem("glass", "diode-10w")
    assert ("unusable_combination", reason) in [(w.code, w.message) for w in preview.warnings]
    assert preview.refusal == ("unusable_combination", reason)
    assert preview.laser is None and preview.burn_time is None
    assert preview.artwork_png  # the picture is still shown


def test_a_laser_value_beyond_the_machine_names_the_limit(artwork):
    with pytest.raises(StudioRefused) as refused:
        services.artwork_prepare(artwork=artwork, settings={**BIRCH, "laser": {"speed_mm_min": 90_000}})
    assert refused.value.code == "laser_out_of_range"
    assert f"maximum feed ({get_machine('diode-10w').max_feed_mm_min:g} mm/min)" in refused.value.message


def test_a_placement_past_the_bed_names_the_edge(user, artwork):
    settings = {**BIRCH, "layout": {"anchor": "right", "offset_mm": [3, 0]}}
    with pytest.raises(StudioRefused) as refused:
        services.artwork_prepare(artwork=artwork, settings=settings)
    assert refused.value.code == "outside_work_area" and "right edge" in refused.value.message
    preview = services.live_preview_render(owner=user, source=artwork.source, settings=settings)
    assert preview.refusal == ("outside_work_area", refused.value.message) and preview.burn_time is not None


def test_the_job_checks_the_placement_once_the_photo_gives_the_height(user, photo):
    # 60 mm wide on a 4:3 photo is 40 mm tall: at the top edge, 30 mm down is 10 mm past it; only the photo tells.
    params = {**BIRCH, "layout": {"anchor": "top", "offset_mm": [0, -30 + 40]}}
    job = job_create(owner=user, kind="engrave.prepare", params=params, inputs=[photo])
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "top edge" in job.error_message
    assert not job.outputs.exists()


# --------------------------------------------------------------------------------------------- the job


def test_the_files_honour_the_laser_settings_and_the_placement(user, artwork):
    laser = {"power_pct": 40.0, "speed_mm_min": 2500.0, "passes": 2, "overscan_mm": 2.0, "scan": "horizontal"}
    layout = {"mirror": True, "anchor": "top-right", "offset_mm": [-10.0, -20.0]}
    version = services.artwork_prepare(
        artwork=artwork, settings={**BIRCH, "mode": "threshold", "laser": laser, "layout": layout}
    )
    # The version stores every laser value, the ones it filled in too.
    assert version.settings["laser"] == {**laser, "air_assist": True}
    assert version.settings["layout"]["mirror"] is True
    run_queued_jobs()
    version.job.refresh_from_db()
    assert version.job.state == JobState.SUCCEEDED, version.job.error_detail
    files = version_files(version)
    png = np.asarray(Image.open(io.BytesIO(read(files["png"]))).convert("L")) < 128
    height, width = png.shape
    machine = get_machine("diode-10w")
    interval = ArtworkSettings.model_validate(BIRCH).line_interval()
    width_mm, height_mm = width * interval, height * interval
    # Top-right, 10 mm in from the right (and 2 mm more, so the run-up stays on the bed), 20 mm down from the top.
    origin = (machine.work_area_mm[0] - width_mm - 10 - 2, machine.work_area_mm[1] - height_mm - 20)
    gcode = read(files["gcode"]).decode()
    raster = outputs.parse_gcode_raster(gcode, px_mm=interval, width_px=width, height_px=height, origin=origin)
    assert np.array_equal(raster.bitmap, png)
    assert (raster.hits[png] == 2).all()  # two passes
    assert raster.feed == 2500 and raster.s_values == (round(machine.s_max * 0.40),)
    assert raster.rapids_with_power == 0
    assert "M8" in gcode.split() and "; Passes: 2" in gcode
    # Mirrored: the same settings unmirrored make the same picture flipped left to right (a threshold is
    # pointwise, so the two can be compared pixel for pixel).
    plain = prepare_artwork(read(artwork.source), mode="threshold", layout=Layout(), **BIRCH)
    assert np.array_equal(png, plain.burn[:, ::-1])

    # The LightBurn project: named like the others, the layer's settings and the bitmap where the G-code puts it.
    assert files["lbrn2"].download_name == files["png"].download_name.removesuffix(".png") + ".lbrn2"
    project = ET.fromstring(read(files["lbrn2"]))
    layer = {child.tag: child.get("Value") for child in project.find("CutSetting_Img")}
    assert float(layer["maxPower"]) == 40 and float(layer["speed"]) == pytest.approx(2500 / 60, abs=1e-3)
    assert layer["numPasses"] == "2" and layer["bidir"] == "0" and layer["runBlower"] == "1"
    shape = project.find("Shape")
    centre = [float(v) for v in shape.find("XForm").text.split()[4:]]
    assert centre == pytest.approx([origin[0] + width_mm / 2, origin[1] + height_mm / 2], abs=1e-3)

    # The burn time: stored with the job's result, as the engine estimates this artwork's toolpath.
    result = version.job.result
    expected = estimate_burn_time(
        prepare_artwork(read(artwork.source), mode="threshold", layout=Layout(mirror=True), **BIRCH),
        ArtworkSettings.model_validate({**BIRCH, "laser": {**laser, "air_assist": True}}).effective_laser().settings,
        layout=Layout(anchor="top-right", offset_mm=(-12.0, -20.0)),
    )
    assert result["burn_time"]["seconds"] == pytest.approx(expected.seconds, abs=0.1)
    assert result["burn_time"]["text"] == expected.text() and f"; Estimated time: {expected.text()}" in gcode
    assert result["laser"]["speed_mm_min"] == {"value": 2500.0, "source": "you", "label": "you"}


def test_hatch_and_line_art_versions_have_vector_svgs(artwork):
    for mode in ("hatch", "sketch"):
        services.artwork_prepare(artwork=artwork, settings={**BIRCH, "width_mm": 30, "mode": mode})
    run_queued_jobs()
    for version in artwork.versions.all():
        svg = read(version_files(version)["svg"]).decode()
        assert "<path" in svg and "<rect" not in svg and "<image" not in svg


def test_the_quick_estimate_follows_the_speed(user, artwork):
    fast = services.live_preview_render(
        owner=user, source=artwork.source, settings={**BIRCH, "laser": {"speed_mm_min": 3000}}
    )
    slow = services.live_preview_render(
        owner=user, source=artwork.source, settings={**BIRCH, "laser": {"speed_mm_min": 1500}}
    )
    assert slow.burn_time.burn_s > 1.5 * fast.burn_time.burn_s
    assert fast.laser["speed_mm_min"] == {"value": 3000, "source": "you", "label": "you"}


def test_the_artwork_keeps_the_settings_as_given_and_the_export_carries_the_versions(user, artwork):
    from intaglio.privacy import rights
    from tests.privacy.test_export import open_export, records, schema_errors

    layout = {"crop": [0.1, 0.1, 0.6, 0.8], "rotate_deg": 90, "mask": "oval", "mask_edge": "soft"}
    version = services.artwork_prepare(artwork=artwork, settings={**BIRCH, "layout": layout})
    artwork.refresh_from_db()
    assert "laser" not in artwork.settings  # still following the material and machine in the studio
    assert artwork.settings["layout"]["mask"] == "oval"
    _, manifest = open_export(rights.data_export(user=user))
    assert schema_errors(manifest) == []
    (exported,) = records(manifest, "artworks")
    assert exported["settings"] == artwork.settings
    assert exported["versions"][0]["settings"] == version.settings and "laser" in version.settings
    # What the export holds is settings as they are read back: a version made again from it is the same.
    again = ArtworkSettings.model_validate(exported["versions"][0]["settings"], strict=False)
    assert again.model_dump(mode="json") == version.settings
