"""The jewellery flow through the real OpenRouter and WaveSpeed adapters, pointed at local fakes that enforce each
documented API, with this site served for real (the fake fetches our signed reference links and posts its webhooks
to us). Then the fault matrix: each injected fault must end in a clear job state and a correct ledger."""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from intaglio.assets import services as asset_services
from intaglio.assets.models import Asset
from intaglio.assets.services import asset_from_signed_token
from intaglio.assets.storage import blob_exists
from intaglio.credits.models import LedgerEntry
from intaglio.credits.selectors import credit_balance
from intaglio.credits.services import credits_grant_monthly
from intaglio.jewellery import services
from intaglio.jewellery.models import ProviderTask, WebhookDelivery
from intaglio.jobs.models import Job, JobState
from intaglio.jobs.services import job_cancel
from tests.factories import make_user, run_queued_jobs
from tests.fakes.openrouter import FakeOpenRouter
from tests.fakes.wavespeed import FakeWaveSpeed
from tests.jewellery import ring_upload

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Remote:
    analysis: FakeOpenRouter
    generation: FakeWaveSpeed
    base_url: str


@pytest.fixture
def remote(live_server, settings, monkeypatch):
    with FakeOpenRouter(fetch_images=True) as analysis, FakeWaveSpeed(max_concurrent=2) as generation:
        base_url = live_server.url
        settings.BASE_URL = base_url
        settings.JEWELLERY_ANALYSIS_PROVIDER = "openrouter"
        settings.OPENROUTER_API_KEY = analysis.api_key
        settings.OPENROUTER_BASE_URL = analysis.url
        settings.OPENROUTER_IMAGE_TRANSPORT = "signed_url"
        settings.OPENROUTER_TIMEOUT_SECONDS = 1
        settings.JEWELLERY_GENERATION_PROVIDER = "wavespeed"
        settings.WAVESPEED_API_KEY = generation.api_key
        settings.WAVESPEED_BASE_URL = generation.url
        settings.WAVESPEED_WEBHOOK_SECRET = generation.webhook_secret
        settings.WAVESPEED_TIMEOUT_SECONDS = 1
        # Webhooks drive completion unless a test polls: the fallback poll is an hour away.
        settings.WAVESPEED_POLL_SECONDS = 3600
        settings.SUBPROCESSORS = [analysis.subprocessor(), generation.subprocessor()]
        settings.JOB_RETRY_BASE_SECONDS = 0
        settings.JOB_MAX_ATTEMPTS = 3
        monkeypatch.setattr("intaglio.providers.wavespeed.backoff_sleep", lambda seconds: None)
        yield Remote(analysis, generation, base_url)


@pytest.fixture
def owner(remote):
    user = make_user(email="jeweller@example.com")
    credits_grant_monthly(user=user, period="2026-11")
    return user


def confirmed_piece(owner):
    piece = services.piece_create(owner=owner, uploads=[ring_upload("a.jpg"), ring_upload("b.jpg", angle_px=15)])
    run_queued_jobs()
    piece.refresh_from_db()
    assert piece.analysis_job.state == JobState.SUCCEEDED, piece.analysis_job.error_detail
    services.piece_confirm(piece=piece, attributes=services.piece_analysis(piece))
    return piece


def generate(owner, *, variants: int = 2, metals=()) -> Job:
    piece = confirmed_piece(owner)
    generation = services.generation_create(
        piece=piece, brief=services.brief_validate({"variants": variants, "metals": list(metals)})
    )
    run_queued_jobs()
    job = Job.objects.get(pk=generation.job_id)
    return job


def ledger(job: Job) -> list[str]:
    return [e.kind for e in LedgerEntry.objects.filter(job_id=job.pk).order_by("pk")]


def settle(job: Job) -> Job:
    run_queued_jobs()
    job.refresh_from_db()
    return job


def test_J9_J15_analysis_goes_to_openrouter_with_data_collection_denied_and_signed_links(remote, owner):
    piece = confirmed_piece(owner)
    (request,) = remote.analysis.completions
    assert request.json["provider"]["data_collection"] == "deny"
    assert request.json["provider"]["require_parameters"] is True
    assert request.json["provider"]["zdr"] is True
    assert request.json["response_format"]["json_schema"]["strict"] is True
    # The fake fetched each reference through our own signed link, and got the image.
    assert [status for _url, status in remote.analysis.fetched] == [200, 200]
    assert piece.analysis_job.result["provider"] == "openrouter"
    assert "jeweller@example.com" not in request.body.decode()


def test_J8_webhook_driven_generation_sends_only_the_prompt_and_short_lived_links(remote, owner, monkeypatch):
    job = generate(owner)
    assert job.state == JobState.WAITING_PROVIDER
    submissions = remote.generation.submissions
    assert len(submissions) == 2
    for submission in submissions:
        assert set(submission.json) <= {"prompt", "images", "size", "seed"}
        assert submission.json["prompt"] in [image["prompt"] for image in job.params["images"]]
        assert "jeweller@example.com" not in submission.body.decode()
        for link in submission.json["images"]:
            assert link.startswith(f"{remote.base_url}/files/signed?")
            # The token is opaque; its life shows in whether it still opens the file 900 s on.
            token = parse_qs(urlsplit(link).query)["t"][0]
            assert asset_from_signed_token(token) is not None
            with monkeypatch.context() as later:
                later.setattr(asset_services, "time", SimpleNamespace(time=lambda: time.time() + 900))
                assert asset_from_signed_token(token) is None
        assert submission.query["webhook"] == [f"{remote.base_url}/hooks/wavespeed/"]
    assert all(status == 200 for _url, status in remote.generation.fetched)

    for prediction_id in remote.generation.prediction_ids:
        remote.generation.complete(prediction_id)
    assert [d.status for d in remote.generation.deliveries] == [200, 200]
    job = settle(job)
    assert job.state == JobState.SUCCEEDED, job.error_detail
    assert sorted(job.outputs.values_list("role", flat=True)) == ["image-0", "image-1"]
    assert ledger(job) == ["reserve", "capture"]
    # Polling never ran: the webhooks did it.
    assert remote.generation.result_reads == []


def test_polling_completes_a_generation_when_no_webhook_arrives(remote, owner, settings):
    settings.WAVESPEED_POLL_SECONDS = 0
    remote.generation.inject("no_webhook")
    job = settle(generate(owner))
    assert job.state == JobState.SUCCEEDED, job.error_detail
    assert job.outputs.count() == 2
    assert remote.generation.deliveries == [] and remote.generation.result_reads
    assert ledger(job) == ["reserve", "capture"]


def test_the_account_concurrency_cap_holds_submissions_back(remote, owner, settings):
    settings.WAVESPEED_POLL_SECONDS = 0
    remote.generation.inject("no_webhook")
    job = settle(generate(owner, variants=3))
    assert job.state == JobState.SUCCEEDED, job.error_detail
    assert len(remote.generation.submissions) == 3  # the fake answers 429 past 2 unfinished: none was refused
    assert job.outputs.count() == 3


# --------------------------------------------------------------------------------------------------- fault matrix
# Each row: the fault injected at the fake, what the test does after submitting, the job's end state, the ledger
# entries of the job, and whether the balance ends where it started. The note's table is this list.

FAULTS = [
    # fault, how many times, completion by, expected state, ledger, balance restored
    ("submit_timeout", 1, "webhook", JobState.FAILED, ["reserve", "release"], True),
    ("submit_5xx", 1, "webhook", JobState.FAILED, ["reserve", "release"], True),
    ("submit_429", 1, "poll", JobState.SUCCEEDED, ["reserve", "capture"], False),
    ("read_5xx", 2, "poll", JobState.SUCCEEDED, ["reserve", "capture"], False),
    ("read_429", 8, "poll", JobState.SUCCEEDED, ["reserve", "capture"], False),
    ("read_timeout", 1, "poll", JobState.SUCCEEDED, ["reserve", "capture"], False),
    ("malformed_json", None, "poll", JobState.FAILED, ["reserve", "release"], True),
    ("schema_violation", None, "poll", JobState.FAILED, ["reserve", "release"], True),
    ("prediction_failed", 1, "poll", JobState.FAILED, ["reserve", "release"], True),
    ("stuck", 1, "deadline", JobState.FAILED, ["reserve", "release"], True),
    ("duplicate_webhook", None, "webhook", JobState.SUCCEEDED, ["reserve", "capture"], False),
    ("forged_webhook", None, "webhook then poll", JobState.SUCCEEDED, ["reserve", "capture"], False),
    ("stale_webhook", None, "webhook then poll", JobState.SUCCEEDED, ["reserve", "capture"], False),
]


def _finish_all(remote):
    for prediction_id in remote.generation.prediction_ids:
        if remote.generation.prediction(prediction_id)["status"] not in ("completed", "failed"):
            remote.generation.complete(prediction_id)


@pytest.mark.parametrize(
    ("fault", "times", "completion", "state", "entries", "restored"), FAULTS, ids=[row[0] for row in FAULTS]
)
def test_fault_matrix(remote, owner, settings, fault, times, completion, state, entries, restored):
    if completion == "poll":
        settings.WAVESPEED_POLL_SECONDS = 0
        remote.generation.inject("no_webhook")
    if fault == "read_timeout":
        remote.generation.hold_seconds = 1.5
    start = 20
    remote.generation.inject(fault, times=times)
    job = generate(owner)

    if completion == "webhook" and job.state == JobState.WAITING_PROVIDER:
        _finish_all(remote)
        job = settle(job)
    elif completion == "webhook then poll":
        _finish_all(remote)
        # The forged or stale delivery was refused (401) and woke nothing: the job still waits for its poll.
        assert {d.status for d in remote.generation.deliveries} == {401}
        job.refresh_from_db()
        assert job.state == JobState.WAITING_PROVIDER
        settings.WAVESPEED_POLL_SECONDS = 0
        Job.objects.filter(pk=job.pk).update(task_id=None)  # the hour-long poll: bring it forward
        from intaglio.jobs.services import job_wake

        job_wake(job_id=job.pk)
        job = settle(job)
    elif completion == "deadline":
        assert job.state == JobState.WAITING_PROVIDER
        settings.WAVESPEED_DEADLINE_MINUTES = 0
        from intaglio.jobs.services import job_wake

        job_wake(job_id=job.pk)
        job = settle(job)
    else:
        job = settle(job)

    assert job.state == state, (job.error_message, job.error_detail[-600:])
    assert ledger(job) == entries
    if restored:
        assert credit_balance(user=owner) == start
        assert job.error_message  # a clear message for the user
        assert "Traceback" not in job.error_message
        # Nothing was charged, so nothing made stays (an image collected before the failure is removed too).
        assert job.outputs.count() == 0
    else:
        assert credit_balance(user=owner) == start - 2
        assert sorted(job.outputs.values_list("role", flat=True)) == ["image-0", "image-1"]
    if fault in ("submit_timeout", "submit_5xx"):
        # Never sent twice: one submit, and the job says why it stopped.
        assert len(remote.generation.submissions) == 1
        assert "never" in job.error_message or "did not confirm" in job.error_message
    if fault == "duplicate_webhook":
        assert WebhookDelivery.objects.filter(outcome="accepted").count() == 2
        statuses = sorted(d.status for d in remote.generation.deliveries)
        assert statuses == [200, 200, 200, 200]
        assert job.outputs.count() == 2


def test_J17_a_late_webhook_after_deletion_is_ignored_and_the_credits_stay_returned(remote, owner):
    remote.generation.inject("late_webhook")
    job = generate(owner)
    piece = services.piece_delete(piece=job.jewellery_generation.piece, actor=owner)
    assert piece >= 2
    assert credit_balance(user=owner) == 20
    _finish_all(remote)
    delivered = remote.generation.deliver_webhooks()
    assert [d.status for d in delivered] == [200, 200]
    assert set(WebhookDelivery.objects.values_list("outcome", flat=True)) == {"ignored"}
    assert not Asset.objects.filter(owner=owner).exists()
    assert credit_balance(user=owner) == 20


def test_J17_a_cancelled_generation_returns_its_credits_and_ignores_its_results(remote, owner):
    job = generate(owner)
    job_cancel(job=job)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    _finish_all(remote)
    assert {d.status for d in remote.generation.deliveries} == {200}
    job = settle(job)
    assert job.state == JobState.CANCELLED and job.outputs.count() == 0
    assert ledger(job) == ["reserve", "release"]
    assert credit_balance(user=owner) == 20
    assert not ProviderTask.objects.filter(job=job, status="completed").exists()


ANALYSIS_FAULTS = [
    ("status_5xx", None, JobState.FAILED),
    ("status_429", 1, JobState.SUCCEEDED),
    ("timeout", 1, JobState.SUCCEEDED),
    ("error_200", None, JobState.FAILED),
    ("malformed_json", None, JobState.FAILED),
    ("schema_violation", None, JobState.FAILED),
    ("finish_error", None, JobState.FAILED),
    ("status_402", None, JobState.FAILED),
]


@pytest.mark.parametrize(("fault", "times", "state"), ANALYSIS_FAULTS, ids=[row[0] for row in ANALYSIS_FAULTS])
def test_analysis_fault_matrix(remote, owner, fault, times, state):
    remote.analysis.hold_seconds = 1.5
    remote.analysis.inject(fault, times=times)
    piece = services.piece_create(owner=owner, uploads=[ring_upload("a.jpg")])
    run_queued_jobs()
    piece.refresh_from_db()
    job = piece.analysis_job
    assert job.state == state, (job.error_message, job.error_detail[-600:])
    if state == JobState.FAILED:
        assert job.error_message and "Traceback" not in job.error_message
        assert services.piece_analysis(piece) is None
    else:
        assert services.piece_analysis(piece)["type"]["value"]
    # Analysis is free: it never touches the balance.
    assert credit_balance(user=owner) == 20


def test_an_image_collected_before_another_fails_is_not_kept_since_nothing_is_charged(remote, owner):
    job = generate(owner)
    first, second = remote.generation.prediction_ids
    remote.generation.complete(first)
    job = settle(job)
    assert job.state == JobState.WAITING_PROVIDER and job.outputs.count() == 1
    kept = job.outputs.get().storage_key
    remote.generation.fail(second, "Content was flagged by the safety checker.")
    job = settle(job)
    assert job.state == JobState.FAILED
    assert job.error_message == (
        "Image 2 of 2 could not be made: Content was flagged by the safety checker. "
        "The credits for this generation have been returned."
    )
    assert job.outputs.count() == 0 and not blob_exists(kept)
    assert ledger(job) == ["reserve", "release"] and credit_balance(user=owner) == 20
