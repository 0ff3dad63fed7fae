"""The engrave.card job kind: a material test card's PNG, G-code, SVG and card.json, stored as the job's outputs."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from intaglio.credits.services import credits_grant_monthly
from intaglio.imaging.artwork.outputs import parse_gcode_raster
from intaglio.imaging.calibration import detect_card
from intaglio.jobs.models import JobState
from intaglio.jobs.services import JobRefused, job_create
from tests.factories import run_queued_jobs


@pytest.fixture
def funded(user):
    credits_grant_monthly(user=user, period="2026-11")
    return user


def read(asset) -> bytes:
    from intaglio.assets.storage import blob_open

    with blob_open(asset.storage_key) as handle:
        return handle.read()


def test_the_job_stores_the_four_files_of_one_card(funded):
    params = {"material": "birch-plywood", "machine": "diode-10w", "mode": "jarvis", "line_interval_mm": 0.1}
    job = job_create(owner=funded, kind="engrave.card", params=params)
    card_id = job.params["card_id"]
    assert 0 <= card_id < 2**32  # drawn when the job was made, so every attempt makes the same card
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_detail
    outputs = {asset.role: asset for asset in job.outputs.all()}
    assert set(outputs) == {"png", "gcode", "svg", "card-json"}
    layout = json.loads(read(outputs["card-json"]))
    assert layout["card_id"] == f"{card_id:08X}" and layout["mode"] == "jarvis" and layout["machine"] == "diode-10w"
    assert outputs["card-json"].mime == "application/json"
    assert outputs["png"].download_name == f"card-{card_id:08X}-birch-plywood.png"
    png = Image.open(io.BytesIO(read(outputs["png"])))
    assert png.mode == "1" and png.size == (layout["width_px"], layout["height_px"])
    assert png.info["dpi"][0] == pytest.approx(254, abs=0.02)
    picture = np.asarray(png.convert("L"))
    assert detect_card(picture).card_id == card_id
    raster = parse_gcode_raster(read(outputs["gcode"]).decode(), px_mm=0.1, width_px=png.size[0], height_px=png.size[1])
    assert np.array_equal(raster.bitmap, picture < 128)
    assert b"data:image/png;base64," in read(outputs["svg"])


def test_each_job_draws_its_own_id_and_a_given_one_is_kept(funded):
    first = job_create(owner=funded, kind="engrave.card", params={"material": "slate", "machine": "diode-10w"})
    second = job_create(owner=funded, kind="engrave.card", params={"material": "slate", "machine": "diode-10w"})
    assert first.params["card_id"] != second.params["card_id"]
    run_queued_jobs()  # the plan runs two at a time
    given = job_create(
        owner=funded, kind="engrave.card", params={"material": "slate", "machine": "diode-10w", "card_id": 42}
    )
    assert given.params["card_id"] == 42


def test_a_users_own_machine_is_taken_as_a_spec(funded):
    spec = {
        "label": "Workshop CO2",
        "kind": "co2",
        "power_w": 50,
        "spot_mm": 0.12,
        "line_interval_mm": 0.1,
        "max_feed_mm_min": 20000,
        "work_area_mm": [500, 300],
    }
    job = job_create(owner=funded, kind="engrave.card", params={"material": "maple", "machine_spec": spec})
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_detail
    layout = json.loads(read(job.outputs.get(role="card-json")))
    assert layout["machine_label"] == "Workshop CO2"
    assert max(cell["speed_mm_min"] for cell in layout["grid"]) <= 20000


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"material": "slate", "machine": "fibre-20w", "line_interval_mm": 0.13}, "does not fit the Fibre galvo"),
        ({"material": "birch-plywood", "machine": "fibre-30w"}, "no suggested settings for a fibre laser"),
        ({"material": "slate", "machine": "diode-10w", "mode": "grayscale"}, "mode: Input should be"),
        ({"material": "marble", "machine": "diode-10w"}, "unknown material 'marble'"),
        ({"material": "slate"}, "give exactly one of machine"),
        ({"material": "slate", "machine": "diode-10w", "card_id": 2**32}, "card_id: Input should be less"),
    ],
)
def test_a_card_that_cannot_be_made_is_refused_before_queueing(funded, params, message):
    with pytest.raises(JobRefused) as refused:
        job_create(owner=funded, kind="engrave.card", params=params)
    assert refused.value.code == "invalid_params" and message in refused.value.message
