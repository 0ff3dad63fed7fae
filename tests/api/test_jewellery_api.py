"""API v1, jewellery studio: references → analysis → confirm → prompt → generation → images → deletion, over HTTP
with a personal token and the local providers. Real services, real jobs, real files."""

import io
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from intaglio.assets.models import Asset
from intaglio.credits.services import credits_grant_monthly
from intaglio.jewellery.prompts import TEMPLATE_VERSION
from intaglio.jobs.models import Job
from tests.factories import make_token, run_queued_jobs
from tests.jewellery import ring_jpeg

pytestmark = pytest.mark.django_db


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def api(client, user):
    credits_grant_monthly(user=user, period="2026-11")
    auth = bearer(make_token(user))

    class Api:
        def get(self, path):
            return client.get(f"/api/v1{path}", **auth)

        def post(self, path, body=None, **headers):
            return client.post(f"/api/v1{path}", body or {}, content_type="application/json", **auth, **headers)

        def put(self, path, body):
            return client.put(f"/api/v1{path}", body, content_type="application/json", **auth)

        def delete(self, path):
            return client.delete(f"/api/v1{path}", **auth)

        def upload(self, files, **fields):
            return client.post("/api/v1/jewellery/pieces", {"files": files, **fields}, **auth)

    return Api()


def references():
    return [
        SimpleUploadedFile("a.jpg", ring_jpeg(), "image/jpeg"),
        SimpleUploadedFile("b.jpg", ring_jpeg(angle_px=20), "image/jpeg"),
    ]


def test_J3_J17_the_whole_jewellery_flow_over_the_api(api):
    vocabulary = api.get("/jewellery/vocabulary").json()
    assert "white_packshot" in [p["name"] for p in vocabulary["presets"]]
    assert vocabulary["template_version"] == TEMPLATE_VERSION and vocabulary["credits_per_image"] == 1

    created = api.upload(references(), title="Ruby solitaire")
    assert created.status_code == 201, created.content
    piece = created.json()
    assert piece["title"] == "Ruby solitaire" and len(piece["references"]) == 2
    assert piece["analysis"] is None and piece["analysis_status"]["state"] == "queued"

    run_queued_jobs()
    piece = api.get(f"/jewellery/pieces/{piece['id']}").json()
    assert piece["analysis_status"]["state"] == "succeeded"
    assert piece["analysis_status"]["provider"] == "local"
    found = piece["analysis"]
    assert len(found["shots"]) == 2

    brief = {"preset": "white_packshot", "aspect_ratio": "1:1", "variants": 1, "metals": ["rose_gold", "white_metal"]}
    refused = api.post(f"/jewellery/pieces/{piece['id']}/prompt", brief)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_confirmed"

    edited = {**found, "finish": {"value": "matte", "confidence": 1.0}}
    confirmed = api.put(f"/jewellery/pieces/{piece['id']}/attributes", {"attributes": edited})
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["attributes"]["finish"]["value"] == "matte"

    plan = api.post(f"/jewellery/pieces/{piece['id']}/prompt", brief).json()
    assert plan["credits"] == 2 and len(plan["images"]) == 2
    assert "matte finish" in plan["images"][0]["prompt"] and "rose gold" in plan["images"][0]["prompt"]

    first = api.post(f"/jewellery/pieces/{piece['id']}/generations", brief, HTTP_IDEMPOTENCY_KEY="g-1")
    again = api.post(f"/jewellery/pieces/{piece['id']}/generations", brief, HTTP_IDEMPOTENCY_KEY="g-1")
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert api.get("/credits").json()["balance"] == 18

    run_queued_jobs()
    generation = api.get(f"/jewellery/generations/{first.json()['id']}").json()
    job = generation["job"]
    assert job["state"] == "succeeded"
    assert [i["prompt"] for i in job["params"]["images"]] == [i["prompt"] for i in plan["images"]]
    assert job["params"]["template_version"] == TEMPLATE_VERSION
    assert len(job["outputs"]) == 2
    image = api.get(urlsplit(job["outputs"][0]["download_url"]).path.removeprefix("/api/v1"))
    assert image.status_code == 200
    picture = Image.open(io.BytesIO(b"".join(image.streaming_content) if image.streaming else image.content))
    assert picture.width == picture.height
    listed = api.get(f"/jewellery/pieces/{piece['id']}/generations").json()
    assert [g["id"] for g in listed["items"]] == [generation["id"]]

    assert api.delete(f"/jewellery/pieces/{piece['id']}").status_code == 204
    assert api.get(f"/jewellery/pieces/{piece['id']}").status_code == 404
    assert not Asset.objects.exists() and not Job.objects.exists()


def test_J2_a_bad_reference_is_listed_with_its_reason_and_the_good_ones_are_kept(api):
    bad = SimpleUploadedFile("c.jpg", b"%PDF-1.4 not an image", "image/jpeg")
    created = api.upload([references()[0], bad, references()[1]])
    assert created.status_code == 201, created.content
    piece = created.json()
    assert len(piece["references"]) == 2
    assert [(r["file_index"], r["code"]) for r in piece["refused"]] == [(1, "unsupported_type")]
    assert "PDF" in piece["refused"][0]["message"]


def test_J2_when_no_reference_is_acceptable_every_file_is_in_details_and_nothing_is_kept(api):
    pdf = SimpleUploadedFile("c.jpg", b"%PDF-1.4 not an image", "image/jpeg")
    empty = SimpleUploadedFile("d.png", b"", "image/png")
    refused = api.upload([pdf, empty])
    assert refused.status_code == 415, refused.content
    error = refused.json()["error"]
    assert error["code"] == "unsupported_type"
    assert [(d["loc"], d["type"]) for d in error["details"]] == [
        (["files", 0], "unsupported_type"),
        (["files", 1], "empty_file"),
    ]
    assert not Asset.objects.exists() and not Job.objects.exists()


def test_eleven_references_are_too_many(api):
    refused = api.upload([SimpleUploadedFile(f"{n}.jpg", ring_jpeg(size=64), "image/jpeg") for n in range(11)])
    assert refused.status_code in (413, 422)
    assert not Asset.objects.exists()


def test_presets_the_local_renderer_cannot_make_are_marked_and_refused_without_charge(api):
    presets = {p["name"]: p["available"] for p in api.get("/jewellery/vocabulary").json()["presets"]}
    assert presets["white_packshot"] and presets["macro_detail"]
    assert not any(presets[name] for name in ("lifestyle_surface", "on_model_hand", "on_model_neck", "on_model_ear"))

    piece = api.upload(references()).json()
    run_queued_jobs()
    found = api.get(f"/jewellery/pieces/{piece['id']}").json()["analysis"]
    assert api.put(f"/jewellery/pieces/{piece['id']}/attributes", {"attributes": found}).status_code == 200
    balance = api.get("/credits").json()["balance"]
    brief = {"preset": "on_model_hand", "aspect_ratio": "1:1", "variants": 2, "metals": []}
    for path in ("prompt", "generations"):
        refused = api.post(f"/jewellery/pieces/{piece['id']}/{path}", brief, HTTP_IDEMPOTENCY_KEY="hand-1")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "preset_unavailable"
        assert "needs an image service" in refused.json()["error"]["message"]
    assert api.get("/credits").json()["balance"] == balance
    assert not Job.objects.filter(kind="jewellery.generate").exists()
