"""API v1: uploads, jobs, files (direct and signed) and credits."""

import io
import time
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from intaglio.assets.models import Asset
from intaglio.assets.storage import blob_exists
from intaglio.credits.models import LedgerEntry
from intaglio.credits.services import credits_grant_monthly
from intaglio.jobs.models import Job
from tests.factories import jpeg_bytes, make_token, run_queued_jobs

pytestmark = pytest.mark.django_db


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    assert body["request_id"] == response["X-Request-ID"]
    return body


def photo(name="photo.jpg", *, width=1200, height=800, color=(180, 120, 60)):
    return SimpleUploadedFile(name, jpeg_bytes(width, height, color), content_type="image/jpeg")


def upload(client, token, *files):
    return client.post("/api/v1/uploads", {"files": list(files)}, **bearer(token))


@pytest.fixture
def uploaded_job(client, token):
    """One uploaded photo whose preview job has run."""
    response = upload(client, token, photo())
    assert response.status_code == 201, response.content
    run_queued_jobs()
    return client.get(f"/api/v1/jobs/{response.json()['jobs'][0]['id']}", **bearer(token)).json()


# --- uploads and jobs --------------------------------------------------------------------------------


def test_upload_two_photos_then_their_preview_jobs_succeed(client, user, token):
    response = upload(client, token, photo("a.jpg"), photo("b.jpg", width=2400, height=1600, color=(10, 200, 30)))
    assert response.status_code == 201
    body = response.json()
    assert body["refused"] == []
    assert [job["kind"] for job in body["jobs"]] == ["preview", "preview"]
    assert {job["state"] for job in body["jobs"]} == {"queued"}
    assert all(len(job["inputs"]) == 1 and job["outputs"] == [] for job in body["jobs"])
    assert body["jobs"][1]["inputs"][0]["width"] == 2400

    assert run_queued_jobs() == 2

    job = client.get(f"/api/v1/jobs/{body['jobs'][1]['id']}", **bearer(token)).json()
    assert job["state"] == "succeeded"
    assert job["progress"] == 100
    assert job["finished_at"] is not None
    assert job["error_message"] == ""
    assert "error_detail" not in job
    outputs = {output["role"]: output for output in job["outputs"]}
    assert set(outputs) == {"web", "thumbnail"}
    assert max(outputs["web"]["width"], outputs["web"]["height"]) <= 1600
    assert max(outputs["thumbnail"]["width"], outputs["thumbnail"]["height"]) <= 320
    for output in job["outputs"]:
        assert output["kind"] == "preview"
        assert output["mime"] == "image/jpeg"
        assert output["bytes"] > 0
        assert output["content_url"].endswith(f"/api/v1/assets/{output['id']}/content")
        assert output["download_url"] == output["content_url"] + "?download=true"

    listed = client.get("/api/v1/jobs", **bearer(token)).json()
    assert listed["count"] == 2
    assert [j["id"] for j in listed["items"]] == sorted((j["id"] for j in body["jobs"]), reverse=True)
    assert client.get("/api/v1/jobs?state=succeeded", **bearer(token)).json()["count"] == 2
    assert client.get("/api/v1/jobs?state=queued", **bearer(token)).json()["count"] == 0
    assert_error_shape(client.get("/api/v1/jobs?state=bogus", **bearer(token)), 422, "validation_error")


def test_one_refused_file_does_not_stop_the_others(client, token):
    html = SimpleUploadedFile("cat.jpg", b"<!doctype html><script>alert(1)</script>", content_type="image/jpeg")
    response = upload(client, token, html, photo())
    assert response.status_code == 201
    body = response.json()
    assert len(body["jobs"]) == 1
    assert body["refused"] == [{"file_index": 0, "code": "unsupported_type", "message": body["refused"][0]["message"]}]
    assert body["refused"][0]["message"]


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", 422, "empty_file"),
        (b"<!DOCTYPE html><html><body>not a photo</body></html>", 415, "unsupported_type"),
        (jpeg_bytes(400, 300)[:300], 422, "corrupt_image"),
    ],
)
def test_a_refused_file_answers_with_its_status_and_code(client, user, token, content, status, code):
    response = upload(client, token, SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg"))
    body = assert_error_shape(response, status, code)
    assert body["error"]["details"] == [{"loc": ["files", 0], "msg": body["error"]["message"], "type": code}]
    assert not Job.objects.exists() and not Asset.objects.exists()


def test_when_every_file_is_refused_details_list_each(client, token):
    empty = SimpleUploadedFile("a.jpg", b"", content_type="image/jpeg")
    html = SimpleUploadedFile("b.jpg", b"<html></html>", content_type="image/jpeg")
    body = assert_error_shape(upload(client, token, empty, html), 422, "empty_file")
    assert [(d["loc"], d["type"]) for d in body["error"]["details"]] == [
        (["files", 0], "empty_file"),
        (["files", 1], "unsupported_type"),
    ]


def test_no_files_part_is_refused(client, token):
    assert_error_shape(client.post("/api/v1/uploads", {"file": photo()}, **bearer(token)), 422, "empty_file")
    assert_error_shape(client.post("/api/v1/uploads", **bearer(token)), 422, "empty_file")


def test_an_oversized_file_is_refused(client, token, settings):
    settings.UPLOAD_MAX_BYTES = 20_000
    response = upload(client, token, photo(width=2000, height=2000, color=(1, 2, 3)), photo(width=10, height=10))
    # The small photo is stored; the large one is reported.
    assert response.status_code == 201
    assert [r["code"] for r in response.json()["refused"]] == ["too_large"]
    assert_error_shape(upload(client, token, SimpleUploadedFile("big.jpg", b"\xff" * 30_000)), 413, "too_large")


def test_an_oversized_request_is_refused_before_its_body_is_read(client, token, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    settings.UPLOAD_MAX_FILES = 1
    assert_error_shape(upload(client, token, SimpleUploadedFile("big.jpg", b"\xff" * 2_000_000)), 413, "too_large")
    assert not Asset.objects.exists()


def test_too_many_files_are_refused(client, token, settings):
    settings.UPLOAD_MAX_FILES = 2
    response = upload(client, token, photo("a.jpg"), photo("b.jpg"), photo("c.jpg"))
    assert_error_shape(response, 413, "too_many_files")
    assert not Asset.objects.exists()


def test_a_full_storage_quota_is_refused(client, user, token, settings):
    settings.PLANS = {**settings.PLANS, user.plan: {**settings.PLANS[user.plan], "storage_mb": 0}}
    assert_error_shape(upload(client, token, photo()), 403, "quota_exceeded")
    assert not Asset.objects.exists()


def test_a_job_without_enough_credits_is_refused_with_402(client, user, token, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "preview": 2}
    assert_error_shape(upload(client, token, photo()), 402, "insufficient_credits")
    assert not Job.objects.exists()


def test_a_plan_limit_is_refused_with_409(client, user, token, settings, monkeypatch):
    from intaglio.jobs import services
    from intaglio.jobs.services import JobRefused

    def refuse(**kwargs):
        raise JobRefused("plan_limit", "Your plan runs 2 jobs at a time.")

    monkeypatch.setattr(services, "upload_photo", refuse)
    assert_error_shape(upload(client, token, photo()), 409, "plan_limit")


def test_an_unreadable_multipart_body_is_a_400(client, token):
    response = client.generic(
        "POST",
        "/api/v1/uploads",
        b"--nope\r\nContent-Disposition: form-data; name=files; filename=a.jpg\r\n",
        content_type="multipart/form-data",
        **bearer(token),
    )
    assert_error_shape(response, 400, "bad_request")


# --- cancelling, deleting, credits held ------------------------------------------------------------


def test_cancelling_a_queued_job_releases_its_credits(client, user, token, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "preview": 2}
    credits_grant_monthly(user=user, period="2026-01")
    allowance = settings.PLANS[user.plan]["monthly_credits"]
    job = upload(client, token, photo()).json()["jobs"][0]
    assert job["credits_reserved"] == 2
    assert client.get("/api/v1/credits", **bearer(token)).json()["balance"] == allowance - 2

    response = client.post(f"/api/v1/jobs/{job['id']}/cancel", **bearer(token))
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert client.get("/api/v1/credits", **bearer(token)).json()["balance"] == allowance
    kinds = [e["kind"] for e in client.get("/api/v1/credits/history", **bearer(token)).json()["items"]]
    assert kinds == ["release", "reserve", "grant"]
    # Cancelling again changes nothing, and the queue no longer runs it.
    assert client.post(f"/api/v1/jobs/{job['id']}/cancel", **bearer(token)).json()["state"] == "cancelled"
    run_queued_jobs()
    assert Job.objects.get(pk=job["id"]).state == "cancelled"
    assert LedgerEntry.objects.filter(job_id=job["id"]).count() == 2


def test_cancelling_a_running_job_asks_it_to_stop(client, token):
    from intaglio.jobs.lifecycle import job_transition

    job = upload(client, token, photo()).json()["jobs"][0]
    job_transition(job=Job.objects.get(pk=job["id"]), to="running")
    response = client.post(f"/api/v1/jobs/{job['id']}/cancel", **bearer(token))
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["cancel_requested"]) == ("running", True)


def test_a_finished_job_cannot_be_cancelled(client, token, uploaded_job):
    response = client.post(f"/api/v1/jobs/{uploaded_job['id']}/cancel", **bearer(token))
    assert_error_shape(response, 409, "job_finished")
    assert Job.objects.get(pk=uploaded_job["id"]).state == "succeeded"


def test_deleting_a_job_removes_its_files_and_blobs(client, token, uploaded_job):
    asset_ids = [a["id"] for a in uploaded_job["inputs"] + uploaded_job["outputs"]]
    keys = list(Asset.objects.filter(pk__in=asset_ids).values_list("storage_key", flat=True))
    assert len(keys) == 3 and all(blob_exists(key) for key in keys)

    response = client.delete(f"/api/v1/jobs/{uploaded_job['id']}", **bearer(token))
    assert response.status_code == 204
    assert not Job.objects.filter(pk=uploaded_job["id"]).exists()
    assert not Asset.objects.filter(pk__in=asset_ids).exists()
    assert not any(blob_exists(key) for key in keys)
    assert_error_shape(client.get(f"/api/v1/jobs/{uploaded_job['id']}", **bearer(token)), 404, "not_found")
    assert_error_shape(client.get(uploaded_job["outputs"][0]["content_url"], **bearer(token)), 404, "not_found")


def test_deleting_a_queued_job_cancels_it_first(client, user, token, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "preview": 2}
    credits_grant_monthly(user=user, period="2026-01")
    job = upload(client, token, photo()).json()["jobs"][0]
    assert client.delete(f"/api/v1/jobs/{job['id']}", **bearer(token)).status_code == 204
    assert run_queued_jobs() == 0
    assert not Asset.objects.exists()
    assert (
        client.get("/api/v1/credits", **bearer(token)).json()["balance"] == settings.PLANS[user.plan]["monthly_credits"]
    )


# --- files -------------------------------------------------------------------------------------------


def test_content_serves_the_bytes_safely(client, token, uploaded_job):
    web = next(o for o in uploaded_job["outputs"] if o["role"] == "web")
    response = client.get(web["content_url"], **bearer(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Disposition"].startswith("inline")
    data = b"".join(response.streaming_content)
    assert len(data) == web["bytes"]
    assert Image.open(io.BytesIO(data)).size == (web["width"], web["height"])

    download = client.get(web["download_url"], **bearer(token))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert web["download_name"] in download["Content-Disposition"]


def test_a_signed_url_works_without_credentials_until_it_expires(client, token, uploaded_job):
    thumbnail = next(o for o in uploaded_job["outputs"] if o["role"] == "thumbnail")
    response = client.post(
        f"/api/v1/assets/{thumbnail['id']}/signed-url",
        {"seconds": 2, "download": True},
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code == 200
    link = response.json()["url"]
    expires_at = datetime.fromisoformat(response.json()["expires_at"])

    anonymous = Client()
    fetched = anonymous.get(link)
    assert fetched.status_code == 200
    assert fetched["Content-Disposition"].startswith("attachment")
    assert fetched["X-Content-Type-Options"] == "nosniff"
    assert len(b"".join(fetched.streaming_content)) == thumbnail["bytes"]

    time.sleep(max(0.0, (expires_at - timezone.now()).total_seconds()) + 0.1)
    assert anonymous.get(link).status_code == 404


def test_a_signed_url_without_a_body_uses_the_default_lifetime(client, token, uploaded_job, settings):
    asset_id = uploaded_job["inputs"][0]["id"]
    before = timezone.now()
    response = client.post(f"/api/v1/assets/{asset_id}/signed-url", content_type="application/json", **bearer(token))
    assert response.status_code == 200, response.content
    expires_at = datetime.fromisoformat(response.json()["expires_at"])
    assert abs((expires_at - before).total_seconds() - settings.SIGNED_URL_SECONDS) < 2
    assert Client().get(response.json()["url"]).status_code == 200


@pytest.mark.parametrize("seconds", [0, 901, -5])
def test_a_signed_url_lifetime_is_bounded(client, token, uploaded_job, seconds):
    response = client.post(
        f"/api/v1/assets/{uploaded_job['inputs'][0]['id']}/signed-url",
        {"seconds": seconds},
        content_type="application/json",
        **bearer(token),
    )
    body = assert_error_shape(response, 422, "validation_error")
    assert body["error"]["details"][0]["loc"][-1] == "seconds"


# --- other people's things ---------------------------------------------------------------------------


def test_another_account_gets_404_for_my_job_and_files(client, other_user, token, uploaded_job):
    intruder = bearer(make_token(other_user))
    job_id = uploaded_job["id"]
    asset_id = uploaded_job["outputs"][0]["id"]
    assert_error_shape(client.get(f"/api/v1/jobs/{job_id}", **intruder), 404, "not_found")
    assert_error_shape(client.post(f"/api/v1/jobs/{job_id}/cancel", **intruder), 404, "not_found")
    assert_error_shape(client.delete(f"/api/v1/jobs/{job_id}", **intruder), 404, "not_found")
    assert_error_shape(client.get(f"/api/v1/assets/{asset_id}/content", **intruder), 404, "not_found")
    assert_error_shape(
        client.post(f"/api/v1/assets/{asset_id}/signed-url", content_type="application/json", **intruder),
        404,
        "not_found",
    )
    assert client.get("/api/v1/jobs", **intruder).json()["count"] == 0
    assert client.get("/api/v1/credits/history", **intruder).json()["count"] == 0

    assert client.get(f"/api/v1/jobs/{job_id}", **bearer(token)).json() == uploaded_job
    assert Asset.objects.filter(pk=asset_id).exists()


def test_the_404_for_someone_elses_job_or_file_names_what_was_not_found(client, other_user, uploaded_job):
    intruder = bearer(make_token(other_user))
    job = assert_error_shape(client.get(f"/api/v1/jobs/{uploaded_job['id']}", **intruder), 404, "not_found")
    assert job["error"]["message"] == "No such job."
    asset_id = uploaded_job["outputs"][0]["id"]
    file = assert_error_shape(client.get(f"/api/v1/assets/{asset_id}/content", **intruder), 404, "not_found")
    assert file["error"]["message"] == "No such file."


def test_another_account_cannot_cancel_my_queued_job(client, other_user, token):
    job = upload(client, token, photo()).json()["jobs"][0]
    assert_error_shape(
        client.post(f"/api/v1/jobs/{job['id']}/cancel", **bearer(make_token(other_user))), 404, "not_found"
    )
    assert Job.objects.get(pk=job["id"]).state == "queued"


# --- credits -----------------------------------------------------------------------------------------


def test_credits_show_balance_plan_and_storage(client, user, token, settings, uploaded_job):
    credits_grant_monthly(user=user, period="2026-01")
    plan = settings.PLANS[user.plan]
    stored = sum(a["bytes"] for a in uploaded_job["inputs"] + uploaded_job["outputs"])
    assert client.get("/api/v1/credits", **bearer(token)).json() == {
        "balance": plan["monthly_credits"],
        "plan": user.plan,
        "monthly_credits": plan["monthly_credits"],
        "concurrent_jobs": plan["concurrent_jobs"],
        "storage_used_bytes": stored,
        "storage_quota_bytes": plan["storage_mb"] * 1024 * 1024,
    }
    history = client.get("/api/v1/credits/history", **bearer(token)).json()
    (entry,) = [e for e in history["items"] if e["kind"] == "grant"]
    assert entry["kind"] == "grant" and entry["delta"] == plan["monthly_credits"] and entry["job_id"] is None
    assert set(entry) == {"id", "kind", "credits", "delta", "memo", "job_id", "created_at"}


def test_a_succeeded_job_spends_its_credits(client, user, token, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "preview": 3}
    credits_grant_monthly(user=user, period="2026-01")
    job = upload(client, token, photo()).json()["jobs"][0]
    run_queued_jobs()
    assert client.get("/api/v1/credits", **bearer(token)).json()["balance"] == (
        settings.PLANS[user.plan]["monthly_credits"] - 3
    )
    entries = client.get("/api/v1/credits/history?limit=2", **bearer(token)).json()["items"]
    assert [(e["kind"], e["job_id"]) for e in entries] == [("capture", job["id"]), ("reserve", job["id"])]


# --- without credentials -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/uploads"),
        ("get", "/api/v1/jobs"),
        ("get", "/api/v1/jobs/1"),
        ("post", "/api/v1/jobs/1/cancel"),
        ("delete", "/api/v1/jobs/1"),
        ("get", "/api/v1/assets/1/content"),
        ("post", "/api/v1/assets/1/signed-url"),
        ("get", "/api/v1/credits"),
        ("get", "/api/v1/credits/history"),
    ],
)
def test_every_operation_needs_credentials(client, method, path):
    assert_error_shape(getattr(client, method)(path), 401, "not_authenticated")


def test_logged_out_upload_stores_nothing(client):
    assert_error_shape(client.post("/api/v1/uploads", {"files": [photo()]}), 401, "not_authenticated")
    assert not Asset.objects.exists()


def test_the_web_session_can_use_the_api(logged_in):
    assert logged_in.get("/api/v1/credits").status_code == 200
    assert logged_in.post("/api/v1/uploads", {"files": [photo()]}).status_code == 201
