"""The studio pages: uploads (one file per request, refusals with their own message), the live job list, the job
page with cancel and delete, and the credits page."""

from __future__ import annotations

import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from intaglio.assets.models import Asset
from intaglio.credits.models import LedgerEntry
from intaglio.credits.services import credits_grant_monthly
from intaglio.jobs.models import Job, JobState
from intaglio.jobs.services import job_create, upload_photo
from tests.factories import jpeg_bytes, run_queued_jobs

JSON = {"HTTP_ACCEPT": "application/json"}


def photo(name: str = "holiday.jpg", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes() if data is None else data, content_type="image/jpeg")


def noisy_jpeg(side: int = 1100) -> bytes:
    """A JPEG that does not compress well: random pixels, a few megabytes."""
    from PIL import Image

    rng = random.Random(7)
    image = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=98)
    return buffer.getvalue()


def upload(client, *files, json: bool = True):
    return client.post(reverse("upload"), {"file": list(files)}, **(JSON if json else {}))


@pytest.fixture
def finished_job(user):
    job = upload_photo(owner=user, upload=photo())
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    return job


# --- uploads ----------------------------------------------------------------------------------------------


def test_upload_creates_a_preview_job(logged_in, user):
    response = upload(logged_in, photo())
    assert response.status_code == 201
    body = response.json()
    assert body["errors"] == []
    (created,) = body["jobs"]
    job = Job.objects.get(pk=created["id"], owner=user)
    assert created["url"] == f"/jobs/{job.pk}/"
    assert job.kind == "preview" and job.state == JobState.QUEUED
    assert job.inputs.get().owner == user

    assert run_queued_jobs() == 1
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert {asset.role for asset in job.outputs.all()} == {"web", "thumbnail"}


def test_upload_needs_login_and_post(client, logged_in):
    assert logged_in.get(reverse("upload")).status_code == 405
    client.logout()
    response = client.post(reverse("upload"), {"file": photo()})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post(reverse("upload"), {"file": photo()}, **JSON)
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    assert not Job.objects.exists()


def test_polled_pieces_send_a_lapsed_session_to_the_login_page(client, user):
    job = upload_photo(owner=user, upload=photo())
    pieces = {reverse("job-list"): "/dashboard/", reverse("job-panel", args=[job.pk]): f"/jobs/{job.pk}/"}
    for url, page in pieces.items():
        response = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{page}")
        assert response.status_code == 204
        assert response["HX-Redirect"] == f"/login/?next={page.replace('/', '%2F')}"
        assert client.get(url).status_code == 302


def test_upload_without_script_posts_several_files_and_reports_each(logged_in, user):
    html_page = SimpleUploadedFile("cat.jpg", b"<!doctype html><html><body>hi</body></html>", content_type="image/jpeg")
    response = upload(logged_in, photo("one.jpg"), html_page, photo("two.jpg"), json=False)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert Job.objects.filter(owner=user).count() == 2
    page = logged_in.get(reverse("dashboard")).content.decode()
    assert "2 photos uploaded" in page
    assert "cat.jpg: This looks like an HTML document, not a photo." in page


@pytest.mark.parametrize(
    ("name", "data", "status", "code", "message"),
    [
        ("empty.jpg", b"", 422, "empty_file", "This file is 0 bytes"),
        (
            "page.jpg",
            b"<!DOCTYPE html>\n<html><head><title>x</title></head></html>",
            415,
            "unsupported_type",
            "This looks like an HTML document, not a photo.",
        ),
        ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200, 422, "corrupt_image", ""),
    ],
)
def test_refused_upload_answers_with_the_specific_message(logged_in, user, name, data, status, code, message):
    response = upload(logged_in, photo(name, data))
    assert response.status_code == status
    body = response.json()
    assert body["error"]["code"] == code
    assert message in body["error"]["message"]
    assert body["errors"] == [{"file": name, "code": code, "message": body["error"]["message"]}]
    assert body["jobs"] == []
    assert not Job.objects.filter(owner=user).exists()
    assert not Asset.objects.filter(owner=user).exists()


def test_a_file_over_the_size_limit_is_refused(logged_in, user, settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    big = noisy_jpeg()
    assert len(big) > settings.UPLOAD_MAX_BYTES
    response = upload(logged_in, photo("huge.jpg", big))
    assert response.status_code == 413
    assert response.json()["error"]["message"] == "This file is larger than the 1 MB limit for one upload."
    assert not Asset.objects.filter(owner=user).exists()


def test_an_oversized_request_is_refused_from_its_headers(logged_in, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    settings.UPLOAD_MAX_FILES = 1
    response = upload(logged_in, photo("big.jpg", noisy_jpeg(900)))
    assert response.status_code == 413
    assert "Send at most 1 files" in response.json()["error"]["message"]


def test_a_request_without_files_is_refused(logged_in):
    response = logged_in.post(reverse("upload"), {}, **JSON)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Choose at least one photo to upload."


def test_the_upload_page_keeps_csrf(csrf_client, user):
    csrf_client.force_login(user)
    response = csrf_client.post(reverse("upload"), {"file": photo()}, **JSON)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert not Job.objects.exists()


# --- dashboard and the live list --------------------------------------------------------------------------


def test_dashboard_shows_balance_upload_zone_and_empty_list(logged_in, user):
    credits_grant_monthly(user=user, period="2030-01")
    page = logged_in.get(reverse("dashboard")).content.decode()
    assert "<strong>20</strong> credits" in page
    assert "Free plan · 20 a month" in page
    assert 'id="upload-form"' in page and 'type="file"' in page and "multiple" in page
    assert "No jobs yet." in page
    assert "every 2s" not in page  # nothing to watch
    assert "web/studio.js" in page


def test_job_list_fragment_polls_while_a_job_is_in_progress(logged_in, user):
    job = upload_photo(owner=user, upload=photo())
    fragment = logged_in.get(reverse("job-list"), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="job-list"')
    assert "<html" not in fragment
    assert 'hx-trigger="every 2s, jobs-changed from:body"' in fragment
    assert f'href="/jobs/{job.pk}/"' in fragment
    assert "Queued" in fragment
    assert "/files/" not in fragment  # no thumbnail yet

    run_queued_jobs()
    fragment = logged_in.get(reverse("job-list")).content.decode()
    assert 'hx-trigger="jobs-changed from:body"' in fragment  # all done: polling stops
    thumbnail = Job.objects.get(pk=job.pk).outputs.get(role="thumbnail")
    assert f'src="/files/{thumbnail.pk}/"' in fragment
    assert "Ready" in fragment
    assert logged_in.get(f"/files/{thumbnail.pk}/").status_code == 200


def test_running_jobs_show_their_progress(logged_in, user):
    job = upload_photo(owner=user, upload=photo())
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, progress=40)
    fragment = logged_in.get(reverse("job-list")).content.decode()
    assert 'value="40"' in fragment and "Processing" in fragment
    panel = logged_in.get(reverse("job-panel", args=[job.pk])).content.decode()
    assert 'value="40"' in panel and 'hx-trigger="every 2s"' in panel


def test_the_list_shows_only_my_jobs(logged_in, user, other_user):
    mine = upload_photo(owner=user, upload=photo())
    theirs = upload_photo(owner=other_user, upload=photo())
    fragment = logged_in.get(reverse("job-list")).content.decode()
    assert f"/jobs/{mine.pk}/" in fragment
    assert f"/jobs/{theirs.pk}/" not in fragment


# --- the job page ------------------------------------------------------------------------------------------


def test_job_page_shows_state_files_and_downloads(logged_in, finished_job):
    page = logged_in.get(reverse("job-detail", args=[finished_job.pk])).content.decode()
    assert f"Preview #{finished_job.pk}" in page
    assert "Ready" in page
    assert "every 2s" not in page
    assert "Cancel job" not in page
    assert "Attempts" in page
    web = finished_job.outputs.get(role="web")
    thumb = finished_job.outputs.get(role="thumbnail")
    photo_asset = finished_job.inputs.get()
    assert f'src="/files/{web.pk}/"' in page
    for asset in (web, thumb, photo_asset):
        assert f'href="/files/{asset.pk}/?download=1"' in page
        assert f"{asset.width} × {asset.height} px" in page
    assert "1200 × 800 px" in page
    response = logged_in.get(f"/files/{web.pk}/?download=1")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert 'data-open-dialog="delete-dialog"' in page and "<dialog" in page


def test_failed_job_shows_the_user_message_never_the_detail(logged_in, user):
    credits_grant_monthly(user=user, period="2030-01")
    job = job_create(owner=user, kind="test.steps", params={"fail": "crash"})
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error_detail
    page = logged_in.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "Failed" in page
    assert job.error_message in page
    assert "secret detail" not in page and "ZeroDivisionError" not in page


def test_other_users_jobs_are_not_found(logged_in, other_user):
    theirs = upload_photo(owner=other_user, upload=photo())
    for name in ("job-detail", "job-panel", "job-delete"):
        assert logged_in.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert logged_in.post(reverse("job-cancel", args=[theirs.pk])).status_code == 404
    assert logged_in.post(reverse("job-delete", args=[theirs.pk])).status_code == 404
    assert Job.objects.get(pk=theirs.pk).state == JobState.QUEUED
    assert logged_in.get(reverse("job-detail", args=[999_999])).status_code == 404


def test_cancel_a_queued_job(logged_in, user):
    job = upload_photo(owner=user, upload=photo())
    page = logged_in.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "Cancel job" in page and 'hx-trigger="every 2s"' in page
    assert logged_in.get(reverse("job-cancel", args=[job.pk])).status_code == 405
    response = logged_in.post(reverse("job-cancel", args=[job.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("job-detail", args=[job.pk])
    assert "Job cancelled." in response.content.decode()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert "Cancel job" not in response.content.decode()
    assert run_queued_jobs() == 0


def test_cancel_a_running_job_asks_it_to_stop(logged_in, user):
    job = upload_photo(owner=user, upload=photo())
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, progress=30)
    response = logged_in.post(reverse("job-cancel", args=[job.pk]), follow=True)
    page = response.content.decode()
    assert "Stopping the job" in page and "Stopping…" in page
    assert Job.objects.get(pk=job.pk).cancel_requested


def test_delete_asks_first_then_removes_the_job_and_its_files(logged_in, user, finished_job):
    asset_ids = [a.pk for a in finished_job.outputs.all()] + [a.pk for a in finished_job.inputs.all()]
    assert len(asset_ids) == 3
    confirm = logged_in.get(reverse("job-delete", args=[finished_job.pk]))
    assert confirm.status_code == 200 and "Delete for good" in confirm.content.decode()
    assert Job.objects.filter(pk=finished_job.pk).exists()

    response = logged_in.post(reverse("job-delete", args=[finished_job.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert f"Preview #{finished_job.pk} deleted" in response.content.decode()
    assert not Job.objects.filter(pk=finished_job.pk).exists()
    assert not Asset.objects.filter(pk__in=asset_ids).exists()
    assert logged_in.get(reverse("job-detail", args=[finished_job.pk])).status_code == 404


def test_delete_a_job_in_flight(logged_in, user):
    job = upload_photo(owner=user, upload=photo())
    logged_in.post(reverse("job-delete", args=[job.pk]))
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not Asset.objects.filter(owner=user).exists()
    assert run_queued_jobs() == 0


# --- credits -------------------------------------------------------------------------------------------------


def test_credits_page_shows_balance_plan_storage_and_history(logged_in, user, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "test.noop": 3}
    credits_grant_monthly(user=user, period="2030-01")
    job = job_create(owner=user, kind="test.noop")
    run_queued_jobs()
    upload_photo(owner=user, upload=photo())
    page = logged_in.get(reverse("credits")).content.decode()
    assert "17 <span>credits</span>" in page
    assert "Free plan" in page and "of 500 MB" in page and "Under 1% used" in page
    assert "Monthly allowance" in page and "Free plan, January 2030" in page
    # One line per job: held, then spent, shown as a single entry with its state.
    assert page.count('class="entry entry-reserve"') == 1 and "3 credits spent" in page
    assert f'href="/jobs/{job.pk}/"' in page and f"No-op #{job.pk}" in page
    assert "+20" in page and "−3" in page


def test_credits_history_is_paginated(logged_in, user):
    for month in range(1, 13):
        for year in range(2030, 2035):
            credits_grant_monthly(user=user, period=f"{year}-{month:02d}")
    assert LedgerEntry.objects.filter(user=user).count() == 60
    first = logged_in.get(reverse("credits")).content.decode()
    assert first.count('class="entry entry-grant"') == 50
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    second = logged_in.get(reverse("credits"), {"page": 2}).content.decode()
    assert second.count('class="entry entry-grant"') == 10


def test_navigation_links(logged_in):
    page = logged_in.get(reverse("credits")).content.decode()
    assert f'href="{reverse("dashboard")}"' in page and ">Studio</a>" in page
    assert f'href="{reverse("credits")}" aria-current="page">Credits</a>' in page


@pytest.mark.parametrize("name", ["dashboard", "credits", "job-list"])
def test_studio_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
