"""The engrave.prepare job kind: an uploaded photo → PNG with DPI, SVG, G-code and a preview of the burn, as assets."""

import io

import numpy as np
import pytest
from PIL import Image

from intaglio.credits.selectors import credit_balance
from intaglio.credits.services import credits_grant_monthly
from intaglio.imaging.artwork import suggest_laser_settings
from intaglio.imaging.artwork.outputs import parse_gcode_raster
from intaglio.jobs.models import JobState
from intaglio.jobs.services import JobRefused, job_create, upload_photo
from tests.factories import run_queued_jobs


@pytest.fixture
def photo(user):
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.chelsea()).save(buffer, "JPEG", quality=90)
    credits_grant_monthly(user=user, period="2026-11")
    job = upload_photo(owner=user, upload=io.BytesIO(buffer.getvalue()))
    run_queued_jobs()
    return job.inputs.get()


def read(asset) -> bytes:
    from intaglio.assets.storage import blob_open

    with blob_open(asset.storage_key) as handle:
        return handle.read()


def test_prepare_makes_the_five_files_at_the_requested_size(user, photo):
    params = {
        "material": "slate",
        "machine": "diode-10w",
        "width_mm": 80,
        "mode": "floyd-steinberg",
        "adjustments": {"contrast": 1.2},
    }
    job = job_create(owner=user, kind="engrave.prepare", params=params, inputs=[photo])
    assert credit_balance(user=user) == 19  # one credit for this kind (JOB_COSTS default)
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_detail
    outputs = {asset.role: asset for asset in job.outputs.all()}
    assert set(outputs) == {"png", "svg", "gcode", "lbrn2", "burn-preview"}
    png = Image.open(io.BytesIO(read(outputs["png"])))
    interval = 0.1  # slate's line interval
    assert png.mode == "1" and png.size[0] == 800 and png.info["dpi"][0] == pytest.approx(254, abs=0.02)
    assert outputs["png"].download_name.endswith("-slate-80x53mm-floyd-steinberg.png")
    # At the bed's lower-left corner, moved right by the run-up so the head stays on the bed.
    origin = (suggest_laser_settings("slate", "diode-10w").overscan_mm, 0.0)
    raster = parse_gcode_raster(
        read(outputs["gcode"]).decode(), px_mm=interval, width_px=png.size[0], height_px=png.size[1], origin=origin
    )
    burned = ~np.asarray(png.convert("L")).astype(bool)
    assert np.array_equal(raster.bitmap, burned)
    assert read(outputs["svg"]).startswith(b"<svg") or b"<svg" in read(outputs["svg"])[:200]
    preview = Image.open(io.BytesIO(read(outputs["burn-preview"])))
    assert preview.mode == "RGB" and preview.size == png.size
    assert credit_balance(user=user) == 19


def test_unknown_material_and_oversize_are_refused_before_queueing(user, photo):
    with pytest.raises(JobRefused) as unknown:
        job_create(
            owner=user,
            kind="engrave.prepare",
            inputs=[photo],
            params={"material": "marble", "machine": "diode-10w", "width_mm": 50},
        )
    assert unknown.value.code == "invalid_params" and "unknown material 'marble'" in unknown.value.message
    with pytest.raises(JobRefused) as too_wide:
        job_create(
            owner=user,
            kind="engrave.prepare",
            inputs=[photo],
            params={"material": "maple", "machine": "fibre-20w", "width_mm": 300},
        )
    assert "wider than the Fibre galvo marker 20 W work area" in too_wide.value.message
    with pytest.raises(JobRefused) as out_of_range:
        job_create(
            owner=user,
            kind="engrave.prepare",
            inputs=[photo],
            params={"material": "maple", "machine": "diode-10w", "width_mm": 50, "adjustments": {"contrast": 9}},
        )
    assert out_of_range.value.code == "invalid_params" and "adjustments.contrast" in out_of_range.value.message
    assert credit_balance(user=user) == 20


def test_a_picture_too_tall_for_the_machine_fails_with_the_engines_message_and_refunds(user, photo):
    portrait = io.BytesIO()
    Image.fromarray(np.full((900, 300, 3), 128, np.uint8)).save(portrait, "PNG")
    tall_photo = upload_photo(owner=user, upload=io.BytesIO(portrait.getvalue())).inputs.get()
    run_queued_jobs()
    before = credit_balance(user=user)
    job = job_create(
        owner=user,
        kind="engrave.prepare",
        inputs=[tall_photo],
        params={"material": "slate", "machine": "fibre-20w", "width_mm": 100},  # 300 mm tall on a 110 mm field
    )
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.attempts == 1
    assert "does not fit" in job.error_message and "work area" in job.error_message
    assert credit_balance(user=user) == before
    assert not job.outputs.exists()


def test_the_api_drives_prepare_end_to_end(client, user, token, photo):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    library = client.get("/api/v1/engrave/library", **auth).json()
    assert "slate" in {m["name"] for m in library["materials"]} and "diode-10w" in {
        m["name"] for m in library["machines"]
    }
    body = {
        "kind": "engrave.prepare",
        "inputs": [photo.pk],
        "params": {"material": "slate", "machine": "diode-10w", "width_mm": 80, "adjustments": {"contrast": 1.3}},
    }
    created = client.post("/api/v1/jobs", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1", **auth)
    assert created.status_code == 201, created.content
    again = client.post("/api/v1/jobs", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1", **auth)
    assert again.json()["id"] == created.json()["id"]
    run_queued_jobs()
    job = client.get(f"/api/v1/jobs/{created.json()['id']}", **auth).json()
    assert job["state"] == "succeeded"
    png = next(o for o in job["outputs"] if o["role"] == "png")
    path = "/" + png["download_url"].split("://", 1)[1].split("/", 1)[1]  # drop scheme and host
    download = client.get(path, **auth)
    assert download.status_code == 200
    image = Image.open(io.BytesIO(b"".join(download.streaming_content)))
    assert image.size[0] == 800 and image.info["dpi"][0] == pytest.approx(254, abs=0.02)
    refused = client.post(
        "/api/v1/jobs",
        {**body, "params": {**body["params"], "material": "marble"}},
        content_type="application/json",
        **auth,
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_params"
    other = client.post("/api/v1/jobs", {**body, "inputs": [999999]}, content_type="application/json", **auth)
    assert other.status_code == 422 and other.json()["error"]["code"] == "invalid_inputs"
