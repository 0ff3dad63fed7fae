"""API v1, the laser job in the studio's settings: laser values with their sources and a burn-time estimate in the live
preview, refusals of what cannot burn (422, naming the limit), and versions that return their laser settings, burn
time and LightBurn project."""

import io

import pytest
from PIL import Image

from intaglio.credits.services import credits_grant_monthly
from intaglio.imaging.artwork import get_machine, laser_problem
from intaglio.jobs.services import upload_photo
from tests.api.test_engrave_api import Api
from tests.factories import make_token, run_queued_jobs

pytestmark = pytest.mark.django_db

BIRCH = {"material": "birch-plywood", "machine": "diode-10w", "width_mm": 60}
GLASS_ON_DIODE = {"material": "glass", "machine": "diode-10w", "width_mm": 60}


@pytest.fixture
def api(client, user):
    return Api(client, make_token(user))


@pytest.fixture
def photo_id(user):
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.chelsea()).save(buffer, "JPEG", quality=90)
    credits_grant_monthly(user=user, period="2026-11")
    job = upload_photo(owner=user, upload=io.BytesIO(buffer.getvalue()))
    run_queued_jobs()
    return job.inputs.get().pk


@pytest.fixture
def artwork_id(api, photo_id):
    created = api.post("/engrave/artworks", {"source": photo_id})
    assert created.status_code == 201, created.content
    return created.json()["id"]


def refused(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code, response.content
    return response.json()["error"]["message"]


def test_the_preview_gives_the_laser_settings_with_their_sources_and_the_burn_time(api, photo_id):
    first = api.post("/engrave/previews", {"source": photo_id, "settings": BIRCH})
    assert first.status_code == 200, first.content
    body = first.json()
    label = f"material suggestion scaled to {get_machine('diode-10w').label}"
    assert body["laser"]["power_pct"] == {"value": 70.0, "source": "suggestion", "label": label}
    assert body["laser"]["scan"]["value"] == "bidirectional" and body["refusal"] is None
    assert body["burn_time"]["seconds"] > 0 and body["burn_time"]["text"]
    slower = api.post(
        "/engrave/previews", {"source": photo_id, "settings": {**BIRCH, "laser": {"speed_mm_min": 1000}}}
    ).json()
    assert slower["laser"]["speed_mm_min"] == {"value": 1000.0, "source": "you", "label": "you"}
    assert slower["burn_time"]["seconds"] > 2 * body["burn_time"]["seconds"]


def test_the_framed_photo_follows_the_layouts_crop_turn_and_mirror(api, client, photo_id):
    layout = {"crop": [0.5, 0.0, 0.5, 1.0], "rotate_deg": 90, "mirror": True, "mask": "oval"}
    body = api.post("/engrave/previews", {"source": photo_id, "settings": {**BIRCH, "layout": layout}}).json()
    url = body["original_url"]
    assert "crop=0.5,0,0.5,1" in url and "rotate=90" in url and "mirror=1" in url and "mask" not in url
    fetched = api.get(url.split("/api/v1", 1)[1])
    assert fetched.status_code == 200, (url, fetched.content[:300])
    photo = Image.open(io.BytesIO(fetched.content))
    assert photo.size == (body["width_px"], body["height_px"]) or photo.size[0] == round(
        photo.size[1] * body["width_mm"] / body["height_mm"]
    )
    # A framing no preview makes is refused, not drawn.
    bad = api.get(url.split("/api/v1", 1)[1].replace("crop=0.5,0,0.5,1", "crop=0.9,0,0.5,1"))
    refused(bad, 422, "invalid_settings")


def test_glass_on_a_diode_is_explained_in_the_preview_and_refused_when_prepared(api, photo_id, artwork_id):
    reason = laser_problem("glass", "diode-10w")
    preview = api.post("/engrave/previews", {"source": photo_id, "settings": GLASS_ON_DIODE})
    assert preview.status_code == 200, preview.content
    assert {"code": "unusable_combination", "message": reason} in preview.json()["warnings"]
    assert preview.json()["refusal"] == {"code": "unusable_combination", "message": reason}
    assert preview.json()["laser"] is None and preview.json()["burn_time"] is None
    message = refused(
        api.post(f"/engrave/artworks/{artwork_id}/versions", {"settings": GLASS_ON_DIODE}),
        422,
        "unusable_combination",
    )
    assert message == reason
    queued = api.post("/jobs", {"kind": "engrave.prepare", "params": GLASS_ON_DIODE, "inputs": [photo_id]})
    assert reason in refused(queued, 422, "invalid_params")
    assert api.get(f"/engrave/artworks/{artwork_id}").json()["versions"] == []


@pytest.mark.parametrize(
    ("extra", "code", "named"),
    [
        ({"laser": {"speed_mm_min": 50_000}}, "laser_out_of_range", "maximum feed"),
        ({"machine": "diode-5w", "laser": {"power_pct": 0.5}}, "laser_out_of_range", "lowest marking power"),
        ({"layout": {"anchor": "bottom", "offset_mm": [0, -1]}}, "outside_work_area", "bottom edge"),
        ({"layout": {"anchor": "left", "offset_mm": [-0.5, 0]}}, "outside_work_area", "overscan"),
    ],
)
def test_values_beyond_the_machine_are_refused_naming_the_limit(api, artwork_id, extra, code, named):
    response = api.post(f"/engrave/artworks/{artwork_id}/versions", {"settings": {**BIRCH, **extra}})
    assert named in refused(response, 422, code)


@pytest.mark.parametrize(
    "extra",
    [
        {"laser": {"power_pct": 101}},
        {"laser": {"power_pct": "80"}},
        {"laser": {"passes": 1.5}},
        {"laser": {"scan": "diagonal"}},
        {"laser": {"wattage": 5}},
        {"layout": {"rotate_deg": 45}},
        {"layout": {"crop": [0.5, 0, 0.6, 1]}},
        {"layout": {"crop": [0, 0, 0, 1]}},
        {"layout": {"mask": "star"}},
        {"layout": {"offset_mm": [1, 2, 3]}},
    ],
)
def test_settings_the_schema_forbids_are_refused(api, photo_id, extra):
    response = api.post("/engrave/previews", {"source": photo_id, "settings": {**BIRCH, **extra}})
    refused(response, 422, "validation_error")


def test_the_schema_documents_the_laser_and_layout_fields(api):
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    laser, layout = schemas["LaserIn"], schemas["LayoutIn"]
    assert laser["additionalProperties"] is False and layout["additionalProperties"] is False
    power = next(option for option in laser["properties"]["power_pct"]["anyOf"] if option.get("type") == "number")
    assert power["exclusiveMinimum"] == 0 and power["maximum"] == 100
    scan = next(option for option in laser["properties"]["scan"]["anyOf"] if "enum" in option)
    assert scan["enum"] == ["horizontal", "bidirectional"]
    assert layout["properties"]["rotate_deg"]["enum"] == [0, 90, 180, 270]
    assert set(layout["properties"]["mask"]["enum"]) == {"none", "oval", "rounded"}


def test_a_version_returns_its_laser_settings_burn_time_and_lightburn_project(api, artwork_id):
    settings = {**BIRCH, "laser": {"passes": 2}, "layout": {"anchor": "center", "mirror": True}}
    made = api.post(f"/engrave/artworks/{artwork_id}/versions", {"settings": settings})
    assert made.status_code == 201, made.content
    assert made.json()["burn_time"] is None and made.json()["laser"] is None  # not made yet
    assert made.json()["settings"]["laser"]["passes"] == 2 and made.json()["settings"]["laser"]["power_pct"] == 70
    run_queued_jobs()
    (version,) = api.get(f"/engrave/artworks/{artwork_id}").json()["versions"]
    files = {f["role"]: f for f in version["files"]}
    assert files["lbrn2"]["download_name"].endswith("-birch-plywood-60x40mm-floyd-steinberg.lbrn2")
    project = api.download(files["lbrn2"]["download_url"]).decode()
    assert project.startswith('<?xml version="1.0"') and '<numPasses Value="2"/>' in project
    assert version["burn_time"]["seconds"] > 0
    gcode = api.download(files["gcode"]["download_url"]).decode()
    assert f"; Estimated time: {version['burn_time']['text']}" in gcode
    assert version["laser"]["passes"] == {"value": 2, "source": "you", "label": "you"}
    # The studio reopens following the material (only what was set is kept as set).
    assert api.get(f"/engrave/artworks/{artwork_id}").json()["settings"]["laser"] == {"passes": 2}
