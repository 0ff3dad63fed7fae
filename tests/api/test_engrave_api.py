"""API v1, engrave studio: the whole flow a desktop laser program drives, over HTTP with a personal token.

Upload → artwork → live preview → prices → versions (files with their DPI) → history → style gallery → own machines
and presets → other accounts see nothing → deleting leaves only the upload. Real services, real jobs, real files.
"""

import base64
import io
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from intaglio.assets.models import Asset
from intaglio.assets.scan import storage_scan
from intaglio.credits.services import credits_grant_monthly
from intaglio.engrave.params import STYLES
from intaglio.jobs.models import Job
from intaglio.privacy.retention import retention_sweep
from tests.factories import make_token, run_queued_jobs

pytestmark = pytest.mark.django_db

SLATE = {"material": "slate", "machine": "diode-10w", "width_mm": 80}
GARAGE_DIODE = {
    "name": "Garage diode",
    "kind": "diode",
    "power_w": 5.5,
    "spot_mm": 0.1,
    "line_interval_mm": 0.1,
    "max_feed_mm_min": 6000,
    "work_area_w_mm": 60,
    "work_area_h_mm": 60,
}


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


class Api:
    """The Django test client speaking JSON with a Bearer token, as a script would."""

    def __init__(self, client, token):
        self.client, self.auth = client, bearer(token)

    def get(self, path, **headers):
        return self.client.get(f"/api/v1{path}", **self.auth, **headers)

    def post(self, path, body=None, **headers):
        return self.client.post(f"/api/v1{path}", body or {}, content_type="application/json", **self.auth, **headers)

    def patch(self, path, body, **headers):
        return self.client.patch(f"/api/v1{path}", body, content_type="application/json", **self.auth, **headers)

    def delete(self, path):
        return self.client.delete(f"/api/v1{path}", **self.auth)

    def download(self, url) -> bytes:
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]  # the URL is absolute: drop scheme and host
        response = self.client.get(path, **self.auth)
        assert response.status_code == 200, response
        return b"".join(response.streaming_content)


def assert_refused(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "request_id"} and body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


def picture(data_url: str, mime: str) -> Image.Image:
    prefix = f"data:{mime};base64,"
    assert data_url.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix) :])))


def upload_photo(api) -> int:
    """Uploads skimage's chelsea (451 × 300) with POST /uploads, runs its preview job and returns the photo's id."""
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.chelsea()).save(buffer, "JPEG", quality=90)
    upload = SimpleUploadedFile("chelsea.jpg", buffer.getvalue(), content_type="image/jpeg")
    response = api.client.post("/api/v1/uploads", {"files": [upload]}, **api.auth)
    assert response.status_code == 201, response.content
    run_queued_jobs()
    job = api.get(f"/jobs/{response.json()['jobs'][0]['id']}").json()
    assert job["state"] == "succeeded"
    return job["inputs"][0]["id"]


@pytest.fixture
def api(client, user, token):
    credits_grant_monthly(user=user, period="2026-11")
    return Api(client, token)


@pytest.fixture
def photo_id(api):
    return upload_photo(api)


@pytest.fixture
def artwork(api, photo_id):
    response = api.post("/engrave/artworks", {"source": photo_id, "title": "Chelsea", "settings": SLATE})
    assert response.status_code == 201, response.content
    return response.json()


# --- the whole flow ------------------------------------------------------------------------------------------


def test_a_script_drives_the_studio_from_photo_to_files_and_back_to_nothing(api, photo_id):
    # An artwork on the uploaded photo.
    created = api.post("/engrave/artworks", {"source": photo_id, "title": "Chelsea", "settings": SLATE})
    assert created.status_code == 201, created.content
    artwork = created.json()
    assert artwork["title"] == "Chelsea" and artwork["source_id"] == photo_id
    assert artwork["settings"]["material"] == "slate" and artwork["versions"] == [] and artwork["styles"] is None
    listed = api.get("/engrave/artworks").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == artwork["id"]
    path = f"/engrave/artworks/{artwork['id']}"

    # The live preview: the artwork at its true dots, in one round trip.
    response = api.post("/engrave/previews", {"source": photo_id, "settings": SLATE})
    assert response.status_code == 200, response.content
    preview = response.json()
    # chelsea is 451 × 300: 80 mm at slate's 0.1 mm lines is 800 × 532 dots.
    assert (preview["width_px"], preview["height_px"]) == (800, 532)
    assert preview["dpi"] == pytest.approx(254) and preview["full_resolution"]
    # 451 photo pixels over 800 dots: enlarged 1.8×, with full detail up to 45 mm wide.
    assert [w["code"] for w in preview["warnings"]] == ["upscaled"] and "45 mm" in preview["warnings"][0]["message"]
    assert preview["width_mm"] == pytest.approx(80) and preview["render_ms"] > 0 and not preview["cached"]
    art = picture(preview["artwork"], "image/png")
    assert art.size == (800, 532) and art.mode == "1"
    assert picture(preview["burn"], "image/jpeg").size == (800, 532)
    # The framed photo is not in every answer: it has its own URL, the same while the framing is the same.
    assert preview["original"] is None
    photo_response = api.get(preview["original_url"].removeprefix("/api/v1"))
    assert photo_response.status_code == 200 and "immutable" in photo_response["Cache-Control"]
    assert Image.open(io.BytesIO(photo_response.content)).size == (800, 532)
    # Only the pictures asked for travel; the same settings answer from the cache.
    dots_only = api.post("/engrave/previews", {"source": photo_id, "settings": SLATE, "pictures": ["artwork"]}).json()
    assert dots_only["burn"] is None and dots_only["cached"] and dots_only["original_url"] == preview["original_url"]
    contrast = api.post(
        "/engrave/previews", {"source": photo_id, "settings": {**SLATE, "adjustments": {"contrast": 2}}}
    ).json()
    changed = np.asarray(picture(contrast["artwork"], "image/png")) != np.asarray(art)
    assert changed.mean() > 0.05
    assert not Job.objects.filter(kind__startswith="engrave.").exists()  # previews make no job and store nothing

    # The price before confirming.
    kinds = {kind["kind"]: kind for kind in api.get("/jobs/kinds").json()}
    assert kinds["engrave.prepare"] == {"kind": "engrave.prepare", "label": "Laser artwork", "credits": 1}
    assert kinds["engrave.styles"]["credits"] == 0 and kinds["preview"]["credits"] == 0
    assert api.get("/credits").json()["balance"] == 20

    # Version 1, retried with the same Idempotency-Key: one version, one charge.
    first = api.post(f"{path}/versions", {"settings": SLATE}, HTTP_IDEMPOTENCY_KEY="v1-once")
    assert first.status_code == 201, first.content
    v1 = first.json()
    assert v1["number"] == 1 and v1["files"] == [] and v1["job"]["state"] == "queued"
    assert v1["job"]["credits_reserved"] == kinds["engrave.prepare"]["credits"]
    again = api.post(f"{path}/versions", {"settings": SLATE}, HTTP_IDEMPOTENCY_KEY="v1-once")
    assert again.status_code == 201 and again.json()["id"] == v1["id"] and again.json()["job"] == v1["job"]
    assert api.get("/credits").json()["balance"] == 19
    run_queued_jobs()

    files = {f["role"]: f for f in api.get(path).json()["versions"][0]["files"]}
    assert set(files) == {"png", "svg", "gcode", "burn-preview"}
    png = files["png"]
    assert png["mime"] == "image/png" and (png["width"], png["height"]) == (800, 532)
    assert png["download_name"].endswith("-slate-80x53mm-floyd-steinberg.png") and png["bytes"] > 0
    image = Image.open(io.BytesIO(api.download(png["download_url"])))
    assert image.size == (800, 532) and image.mode == "1"
    assert image.info["dpi"][0] == pytest.approx(254, abs=0.02)
    assert api.download(files["gcode"]["download_url"]).startswith(b";")

    # Version 2 with more contrast; the history lists both, newest first, each with its own settings and files.
    second = api.post(f"{path}/versions", {"settings": {**SLATE, "adjustments": {"contrast": 1.5}}})
    assert second.status_code == 201 and second.json()["number"] == 2
    run_queued_jobs()
    detail = api.get(path).json()
    assert [v["number"] for v in detail["versions"]] == [2, 1]
    assert [v["job"]["state"] for v in detail["versions"]] == ["succeeded", "succeeded"]
    assert detail["versions"][0]["settings"]["adjustments"]["contrast"] == 1.5
    assert detail["versions"][1]["settings"]["adjustments"].get("contrast") is None
    assert all(len(v["files"]) == 4 for v in detail["versions"])
    assert {f["id"] for f in detail["versions"][0]["files"]}.isdisjoint(f["id"] for f in detail["versions"][1]["files"])
    assert detail["settings"]["adjustments"]["contrast"] == 1.5  # the studio reopens on the last settings

    # Rename and save settings.
    renamed = api.patch(path, {"title": "  Chelsea on slate ", "settings": {**SLATE, "width_mm": 60}})
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["title"] == "Chelsea on slate" and renamed.json()["settings"]["width_mm"] == 60
    assert len(renamed.json()["versions"]) == 2

    # The style gallery.
    styles = api.post(f"{path}/styles", {"settings": SLATE})
    assert styles.status_code == 201, styles.content
    assert styles.json()["kind"] == "engrave.styles" and styles.json()["credits_reserved"] == 0
    run_queued_jobs()
    gallery = api.get(path).json()["styles"]
    assert gallery["job"]["id"] == styles.json()["id"] and gallery["job"]["state"] == "succeeded"
    assert [p["style"] for p in gallery["pictures"]] == list(STYLES)
    assert [p["label"] for p in gallery["pictures"]] == list(STYLES.values())
    first_style = gallery["pictures"][0]["file"]
    assert first_style["mime"] == "image/jpeg" and (first_style["width"], first_style["height"]) == (800, 532)
    assert Image.open(io.BytesIO(api.download(first_style["content_url"]))).size == (800, 532)

    # Deleting the artwork removes every version's files and the gallery; only the upload's 3 blobs remain.
    assert storage_scan().blobs == 3 + 2 * 4 + len(STYLES)
    assert api.delete(path).status_code == 204
    assert_refused(api.get(path), 404, "not_found")
    assert api.get("/engrave/artworks").json()["count"] == 0
    scan = storage_scan()
    assert scan.blobs == 3 and not scan.orphan_blobs and not scan.missing_blobs
    assert Asset.objects.filter(pk=photo_id).exists()
    assert api.get("/credits").json()["balance"] == 18  # two versions; the gallery is free


# --- your own machines and presets ---------------------------------------------------------------------------


def test_machine_profiles_crud_and_use_in_a_preview_and_a_version(api, photo_id, artwork):
    created = api.post("/engrave/machines/mine", GARAGE_DIODE)
    assert created.status_code == 201, created.content
    machine = created.json()
    assert {k: machine[k] for k in GARAGE_DIODE} == GARAGE_DIODE and machine["s_max"] == 1000
    mine = f"/engrave/machines/mine/{machine['id']}"
    assert api.get("/engrave/machines/mine").json()["items"] == [machine]
    assert api.get(mine).json() == machine
    # The library is untouched by one's own machines.
    assert "Garage diode" not in {m["label"] for m in api.get("/engrave/library").json()["machines"]}

    # Used in a preview and a version by its id; its numbers are frozen into the version.
    settings = {"material": "maple", "machine_profile": machine["id"], "width_mm": 50}
    preview = api.post("/engrave/previews", {"source": photo_id, "settings": settings}).json()
    assert preview["width_px"] == 500 and preview["dpi"] == pytest.approx(254)
    assert "does_not_fit" not in [w["code"] for w in preview["warnings"]]
    too_wide = api.post("/engrave/previews", {"source": photo_id, "settings": {**settings, "width_mm": 70}})
    assert too_wide.status_code == 200
    assert any(w["code"] == "does_not_fit" and "does not fit" in w["message"] for w in too_wide.json()["warnings"])
    version = api.post(f"/engrave/artworks/{artwork['id']}/versions", {"settings": settings})
    assert version.status_code == 201, version.content
    assert version.json()["settings"]["machine_spec"]["label"] == "Garage diode"
    assert version.json()["settings"]["machine"] is None
    assert_refused(
        api.post(f"/engrave/artworks/{artwork['id']}/versions", {"settings": {**settings, "width_mm": 70}}),
        422,
        "does_not_fit",
    )

    # Changing it only changes the fields sent, and not the version already made.
    changed = api.patch(mine, {"name": "Renamed", "work_area_w_mm": 40, "work_area_h_mm": 40})
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Renamed" and changed.json()["power_w"] == 5.5
    assert changed.json()["work_area_w_mm"] == 40
    run_queued_jobs()
    made = api.get(f"/engrave/artworks/{artwork['id']}").json()["versions"][0]
    assert made["job"]["state"] == "succeeded" and made["settings"]["machine_spec"]["work_area_mm"] == [60, 60]
    gcode = next(f for f in made["files"] if f["role"] == "gcode")
    assert b"Garage diode" in api.download(gcode["download_url"])[:400]
    assert_refused(
        api.post(f"/engrave/artworks/{artwork['id']}/versions", {"settings": settings}), 422, "does_not_fit"
    )  # 50 mm no longer fits its 40 mm work area

    # Refusals: a name taken, numbers the engine cannot use, a machine named twice.
    assert_refused(api.post("/engrave/machines/mine", {**GARAGE_DIODE, "name": "Renamed"}), 409, "duplicate_name")
    no_interval = {**GARAGE_DIODE, "name": "Wide spot", "spot_mm": 1.0, "line_interval_mm": None}
    assert (
        "line_interval_mm"
        in assert_refused(api.post("/engrave/machines/mine", no_interval), 422, "invalid_machine")["message"]
    )
    error = assert_refused(api.post("/engrave/machines/mine", {**GARAGE_DIODE, "power_w": -1}), 422, "validation_error")
    assert error["details"][0]["loc"][-1] == "power_w"
    both = {**settings, "machine": "diode-10w"}
    assert_refused(api.post("/engrave/previews", {"source": photo_id, "settings": both}), 422, "validation_error")

    assert api.delete(mine).status_code == 204
    assert_refused(api.get(mine), 404, "not_found")
    assert api.get("/engrave/machines/mine").json()["count"] == 0
    assert_refused(api.post("/engrave/previews", {"source": photo_id, "settings": settings}), 422, "invalid_settings")
    # The version made with it keeps its frozen numbers and files.
    assert len(api.get(f"/engrave/artworks/{artwork['id']}").json()["versions"][0]["files"]) == 4


def test_material_presets_crud(api):
    body = {"name": "Dark walnut", "material": "walnut", "mode": "jarvis", "adjustments": {"contrast": 1.3}}
    created = api.post("/engrave/presets", body)
    assert created.status_code == 201, created.content
    preset = created.json()
    assert preset["adjustments"] == {"contrast": 1.3} and preset["line_interval_mm"] is None and preset["notes"] == ""
    one = f"/engrave/presets/{preset['id']}"
    assert api.get("/engrave/presets").json()["items"] == [preset]
    assert api.get(one).json() == preset

    changed = api.patch(one, {"line_interval_mm": 0.12, "adjustments": {"gamma": 0.9}, "notes": "oil first"})
    assert changed.status_code == 200, changed.content
    assert changed.json() | {"id": 0} == preset | {
        "id": 0,
        "line_interval_mm": 0.12,
        "adjustments": {"gamma": 0.9},
        "notes": "oil first",
    }
    back = api.patch(one, {"line_interval_mm": None}).json()
    assert back["line_interval_mm"] is None and back["mode"] == "jarvis" and back["notes"] == "oil first"

    assert_refused(api.post("/engrave/presets", {**body, "material": "maple"}), 409, "duplicate_name")
    unknown = assert_refused(
        api.post("/engrave/presets", {**body, "name": "x", "material": "marble"}), 422, "validation_error"
    )
    assert unknown["details"][0]["loc"][-1] == "material"
    assert api.delete(one).status_code == 204
    assert_refused(api.get(one), 404, "not_found")
    assert_refused(api.patch(one, {"notes": "gone"}), 404, "not_found")


# --- other accounts ------------------------------------------------------------------------------------------


def test_another_account_gets_404_for_every_studio_id(api, client, other_user, photo_id, artwork):
    machine = api.post("/engrave/machines/mine", GARAGE_DIODE).json()
    preset = api.post("/engrave/presets", {"name": "Mine", "material": "maple"}).json()
    credits_grant_monthly(user=other_user, period="2026-11")
    intruder = Api(client, make_token(other_user))
    path = f"/engrave/artworks/{artwork['id']}"

    assert_refused(intruder.get(path), 404, "not_found")
    assert_refused(intruder.patch(path, {"title": "Mine now"}), 404, "not_found")
    assert_refused(intruder.delete(path), 404, "not_found")
    assert_refused(intruder.post(f"{path}/versions", {"settings": SLATE}), 404, "not_found")
    assert_refused(intruder.post(f"{path}/styles"), 404, "not_found")
    assert_refused(intruder.post("/engrave/artworks", {"source": photo_id}), 404, "invalid_source")
    assert_refused(intruder.post("/engrave/previews", {"source": photo_id, "settings": SLATE}), 404, "invalid_source")
    for one in (f"/engrave/machines/mine/{machine['id']}", f"/engrave/presets/{preset['id']}"):
        assert_refused(intruder.get(one), 404, "not_found")
        assert_refused(intruder.patch(one, {"name": "Mine now"}), 404, "not_found")
        assert_refused(intruder.delete(one), 404, "not_found")
    assert intruder.get("/engrave/artworks").json()["count"] == 0
    assert intruder.get("/engrave/machines/mine").json()["count"] == 0
    assert intruder.get("/engrave/presets").json()["count"] == 0
    assert intruder.get("/engrave/cards").json()["count"] == 0
    assert intruder.get("/engrave/calibrations").json()["count"] == 0
    assert_refused(intruder.get(f"{path}/burn-reports"), 404, "not_found")
    # A test card for someone else's machine is refused like one for an unknown machine (every calibration and
    # burn-report id: tests/api/test_calibration_api.py).
    their_card = {"material": "maple", "machine_profile": machine["id"]}
    assert_refused(intruder.post("/engrave/cards", their_card), 422, "invalid_settings")
    # Naming someone else's machine in one's own settings is refused like an unknown one.
    own_photo = upload_photo(intruder)
    theirs = {"material": "maple", "machine_profile": machine["id"], "width_mm": 50}
    assert_refused(
        intruder.post("/engrave/previews", {"source": own_photo, "settings": theirs}), 422, "invalid_settings"
    )

    # Nothing of the owner's changed.
    assert api.get(path).json()["title"] == "Chelsea"
    assert api.get(f"/engrave/machines/mine/{machine['id']}").json()["name"] == "Garage diode"
    assert api.get(f"/engrave/presets/{preset['id']}").json()["name"] == "Mine"
    assert not Job.objects.filter(kind__startswith="engrave.").exists()


# --- refusals ------------------------------------------------------------------------------------------------


def test_bad_settings_are_refused_with_the_field_named(api, photo_id, artwork):
    bad = {**SLATE, "adjustments": {"gamma": 50}}
    for path, body in (
        ("/engrave/previews", {"source": photo_id, "settings": bad}),
        (f"/engrave/artworks/{artwork['id']}/versions", {"settings": bad}),
        ("/engrave/artworks", {"source": photo_id, "settings": bad}),
    ):
        error = assert_refused(api.post(path, body), 422, "validation_error")
        assert error["details"][0]["loc"][-3:] == ["settings", "adjustments", "gamma"], error
    error = assert_refused(
        api.patch(f"/engrave/artworks/{artwork['id']}", {"settings": {**SLATE, "material": "marble"}}),
        422,
        "validation_error",
    )
    assert error["details"][0]["loc"][-1] == "material" and "unknown material 'marble'" in error["details"][0]["msg"]
    # Nothing was saved or queued.
    assert api.get(f"/engrave/artworks/{artwork['id']}").json()["settings"]["material"] == "slate"
    assert not Job.objects.filter(kind__startswith="engrave.").exists()


def test_a_piece_larger_than_the_work_area_is_previewed_with_a_warning_but_not_prepared(api, photo_id, artwork):
    too_big = {"material": "maple", "machine": "fibre-20w", "width_mm": 100, "height_mm": 120}
    preview = api.post("/engrave/previews", {"source": photo_id, "settings": too_big})
    assert preview.status_code == 200
    assert any(
        w["code"] == "does_not_fit" and "does not fit" in w["message"] and "110 × 110 mm" in w["message"]
        for w in preview.json()["warnings"]
    )
    error = assert_refused(
        api.post(f"/engrave/artworks/{artwork['id']}/versions", {"settings": too_big}), 422, "does_not_fit"
    )
    assert "work area" in error["message"]
    assert_refused(api.post(f"/engrave/artworks/{artwork['id']}/styles", {"settings": too_big}), 422, "does_not_fit")
    assert not Job.objects.filter(kind__startswith="engrave.").exists()
    assert api.get("/credits").json()["balance"] == 20


def test_unknown_ids_are_404(api, photo_id):
    assert_refused(api.post("/engrave/previews", {"source": 999_999, "settings": SLATE}), 404, "invalid_source")
    assert_refused(api.post("/engrave/artworks", {"source": 999_999}), 404, "invalid_source")
    for path in ("/engrave/artworks/999999", "/engrave/machines/mine/999999", "/engrave/presets/999999"):
        assert_refused(api.get(path), 404, "not_found")
        assert_refused(api.delete(path), 404, "not_found")
    assert_refused(api.post("/engrave/artworks/999999/versions", {"settings": SLATE}), 404, "not_found")


def test_a_file_that_is_not_an_uploaded_photo_is_not_a_source(api, photo_id, artwork):
    api.post(f"/engrave/artworks/{artwork['id']}/versions", {"settings": SLATE})
    run_queued_jobs()
    for role in ("thumbnail", "gcode", "svg", "png"):
        other_file = Asset.objects.get(role=role).pk
        assert_refused(api.post("/engrave/artworks", {"source": other_file}), 404, "invalid_source")
        body = {"source": other_file, "settings": SLATE}
        assert_refused(api.post("/engrave/previews", body), 404, "invalid_source")


def test_a_new_artwork_starts_on_default_settings(api, photo_id):
    created = api.post("/engrave/artworks", {"source": photo_id})
    assert created.status_code == 201
    assert created.json()["title"] == Asset.objects.get(pk=photo_id).title  # called after the photo
    assert created.json()["settings"] == {
        "material": "birch-plywood",
        "machine": "diode-10w",
        "width_mm": 100.0,
        "mode": "floyd-steinberg",
    }
    # Its gallery uses those saved settings when none are sent.
    styles = api.post(f"/engrave/artworks/{created.json()['id']}/styles")
    assert styles.status_code == 201 and styles.json()["params"]["material"] == "birch-plywood"


def test_job_refusals_keep_their_status(api, client, other_user, photo_id, artwork, settings):
    path = f"/engrave/artworks/{artwork['id']}/versions"
    assert_refused(api.post(path, {"settings": SLATE}, HTTP_IDEMPOTENCY_KEY="x" * 101), 422, "validation_error")
    # The free plan runs two jobs at a time.
    assert api.post(path, {"settings": SLATE}).status_code == 201
    assert api.post(path, {"settings": SLATE}).status_code == 201
    assert_refused(api.post(path, {"settings": SLATE}), 409, "plan_limit")
    assert_refused(api.post(f"/engrave/artworks/{artwork['id']}/styles"), 409, "plan_limit")
    # An account without credits.
    poor = Api(client, make_token(other_user))
    poor_photo = upload_photo(poor)
    poor_artwork = poor.post("/engrave/artworks", {"source": poor_photo}).json()
    assert_refused(
        poor.post(f"/engrave/artworks/{poor_artwork['id']}/versions", {"settings": SLATE}), 402, "insufficient_credits"
    )
    assert poor.get(f"/engrave/artworks/{poor_artwork['id']}").json()["versions"] == []


def test_an_artwork_whose_photo_was_deleted_keeps_its_files_but_makes_no_new_version(api, photo_id, artwork):
    assert api.post(f"/engrave/artworks/{artwork['id']}/versions", {"settings": SLATE}).status_code == 201
    run_queued_jobs()
    # The photo's time is up: the sweeper deletes it (and its previews), as retention says.
    Asset.objects.filter(pk=photo_id).update(expires_at=timezone.now() - timedelta(hours=1))
    retention_sweep()
    detail = api.get(f"/engrave/artworks/{artwork['id']}").json()
    assert detail["source_id"] is None and len(detail["versions"][0]["files"]) == 4
    assert_refused(api.post(f"/engrave/artworks/{artwork['id']}/versions", {"settings": SLATE}), 409, "source_gone")


def test_a_machine_described_in_full_and_json_types_taken_as_they_are(api, photo_id):
    spec = {k: v for k, v in GARAGE_DIODE.items() if not k.startswith("work_area") and k != "name"}
    settings = {
        "material": "maple",
        "width_mm": 50,
        "machine_spec": {**spec, "label": "Borrowed", "work_area_mm": [60, 60]},
    }
    preview = api.post("/engrave/previews", {"source": photo_id, "settings": settings})
    assert preview.status_code == 200, preview.content
    assert preview.json()["width_px"] == 500
    # A name with a control character is refused before it is stored (PostgreSQL's JSON cannot hold NUL).
    nul = {**settings, "machine_spec": {**settings["machine_spec"], "label": "Bor\u0000rowed"}}
    error = assert_refused(
        api.post("/engrave/previews", {"source": photo_id, "settings": nul}), 422, "validation_error"
    )
    assert error["details"][0]["loc"][-1] == "label"
    # The documented types are the accepted ones: 0 is not false, "80" is not a number.
    for wrong in ({"serpentine": 0}, {"width_mm": "80"}, {"adjustments": {"invert": 1}}):
        error = assert_refused(
            api.post("/engrave/previews", {"source": photo_id, "settings": {**SLATE, **wrong}}), 422, "validation_error"
        )
        assert error["details"][0]["loc"][-1] in ("serpentine", "width_mm", "invert")
