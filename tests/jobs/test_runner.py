"""The job runner: leases, fencing, progress and cancel, retries with backoff, the reaper, deletion."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from intaglio.assets.models import Asset
from intaglio.assets.scan import storage_scan
from intaglio.assets.storage import blob_exists
from intaglio.credits.models import LedgerEntry
from intaglio.credits.selectors import credit_balance
from intaglio.credits.services import credits_grant_monthly
from intaglio.jobs.lifecycle import retry_delay
from intaglio.jobs.models import Job, JobState
from intaglio.jobs.runner import GENERIC_FAILURE, JobCancelled, JobContext, LeaseKeeper, LeaseLost, _claim
from intaglio.jobs.services import (
    JobRefused,
    job_cancel,
    job_create,
    job_delete,
    jobs_reap,
    upload_photo,
)
from intaglio.jobs.tasks import job_finish_attempt
from tests.factories import jpeg_bytes, run_queued_jobs


@pytest.fixture(autouse=True)
def costs(settings, user):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "test.steps": 2, "preview": 1}
    credits_grant_monthly(user=user, period="2026-11")


def steps(user, **params) -> Job:
    return job_create(owner=user, kind="test.steps", params=params)


def attempt(job: Job):
    """Claims the job as a worker would and returns its context (a worker that may then 'die')."""
    claimed, token, _stale = _claim(job.pk)
    return JobContext(claimed, token, LeaseKeeper(job.pk, token)), token


def test_a_job_is_queued_with_its_queue_entry_in_the_same_transaction(user):
    job = steps(user)
    task = DBTaskResult.objects.get(pk=job.task_id)
    assert task.status == TaskResultStatus.READY
    assert task.args_kwargs == {"args": [], "kwargs": {"job_id": job.pk}}


def test_params_are_validated_per_kind(user):
    with pytest.raises(JobRefused) as refused:
        steps(user, steps=0, colour="red")
    assert refused.value.code == "invalid_params"
    assert "steps" in refused.value.message and "colour" in refused.value.message
    with pytest.raises(JobRefused) as unknown:
        job_create(owner=user, kind="nope")
    assert unknown.value.code == "unknown_kind"
    assert not Job.objects.exists()


def test_preview_job_makes_a_thumbnail_and_a_web_preview(user):
    job = upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes(3000, 2000)))
    (source,) = job.inputs.all()
    assert source.expires_at is None  # in use: no retention clock
    assert run_queued_jobs() == 1
    job.refresh_from_db()
    assert (job.state, job.progress, job.attempts) == (JobState.SUCCEEDED, 100, 1)
    outputs = {asset.role: asset for asset in job.outputs.all()}
    assert (outputs["thumbnail"].width, outputs["thumbnail"].height) == (320, 213)
    assert (outputs["web"].width, outputs["web"].height) == (1600, 1067)
    assert all(asset.kind == "preview" and asset.mime == "image/jpeg" for asset in outputs.values())
    assert all(blob_exists(asset.storage_key) for asset in outputs.values())
    source.refresh_from_db()
    assert timedelta(days=29) < source.expires_at - timezone.now() <= timedelta(days=30)
    assert sorted(LedgerEntry.objects.filter(job=job).values_list("kind", flat=True)) == ["capture", "reserve"]


def test_progress_is_recorded_and_a_cancel_stops_the_work_at_the_next_report(user):
    job = steps(user, steps=5)
    ctx, token = attempt(job)
    ctx.progress(40)
    assert Job.objects.get(pk=job.pk).progress == 40
    assert job_cancel(job=job).cancel_requested
    with pytest.raises(JobCancelled):
        ctx.progress(60)
    assert job_finish_attempt(job_id=job.pk, token=token, outcome="cancelled") == "cancelled"
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.progress == 40
    assert credit_balance(user=user) == 20


def test_cancel_of_a_queued_job_is_immediate_and_its_queue_entry_goes(user):
    job = steps(user)
    assert job_cancel(job=job).state == JobState.CANCELLED
    assert not DBTaskResult.objects.filter(pk=job.task_id).exists()
    assert run_queued_jobs() == 0
    assert credit_balance(user=user) == 20


def test_transient_errors_retry_with_backoff_until_success(user, settings):
    settings.JOB_RETRY_BASE_SECONDS = 0  # retries become due at once so the batch worker runs them
    job = steps(user, fail="transient_until", fail_attempts=3)
    assert run_queued_jobs() == 3
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.SUCCEEDED, 3)
    assert Asset.objects.filter(produced_by=job).count() == 1
    assert credit_balance(user=user) == 18


def test_transient_errors_give_up_after_the_configured_attempts(user, settings):
    settings.JOB_RETRY_BASE_SECONDS = 0
    settings.JOB_MAX_ATTEMPTS = 4
    job = steps(user, fail="transient")
    assert run_queued_jobs() == 4
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.FAILED, 4)
    assert job.error_message == "The provider is busy. We tried 4 times and stopped."
    assert credit_balance(user=user) == 20


def test_a_retry_waits_for_its_backoff(user, settings):
    settings.JOB_RETRY_BASE_SECONDS = 60
    job = steps(user, fail="transient")
    assert run_queued_jobs() == 1  # the retry is not due yet
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 1
    due = DBTaskResult.objects.get(pk=job.task_id).run_after
    assert timedelta(seconds=29) < due - timezone.now() <= timedelta(seconds=60)


def test_backoff_is_exponential_capped_and_jittered(settings):
    settings.JOB_RETRY_BASE_SECONDS, settings.JOB_RETRY_MAX_SECONDS = 2, 300
    for attempt_number, ceiling in [(1, 2), (2, 4), (3, 8), (6, 64), (12, 300)]:
        delays = [retry_delay(attempt_number) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len({round(delay, 6) for delay in delays}) > 150  # jitter, not a fixed schedule


def test_permanent_errors_fail_at_once_with_the_users_message(user):
    job = steps(user, fail="permanent")
    assert run_queued_jobs() == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.error_message) == (JobState.FAILED, 1, "This photo cannot be processed.")
    assert credit_balance(user=user) == 20


def test_a_bug_fails_with_a_generic_message_and_keeps_the_detail_internal(user):
    job = steps(user, fail="crash")
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error_message == GENERIC_FAILURE
    assert "secret" not in job.error_message and "ZeroDivisionError" in job.error_detail
    assert credit_balance(user=user) == 20


def test_a_lapsed_lease_is_requeued_with_attempt_plus_one_and_finishes_once(user):
    job = steps(user)
    dead, _token = attempt(job)  # a worker claims the job, then dies without a word
    dead.save_output(kind="export", role="result", data=b"half-done", mime="text/plain", download_name="x.txt")
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    old_task = job.task_id
    DBTaskResult.objects.filter(pk=old_task).update(status=TaskResultStatus.RUNNING, started_at=timezone.now())

    assert jobs_reap() == {"requeued": 1, "failed": 0, "reenqueued": 0}
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 1 and job.task_id != old_task
    assert DBTaskResult.objects.get(pk=old_task).status == TaskResultStatus.FAILED
    assert run_queued_jobs() == 1
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.SUCCEEDED, 2)
    (output,) = Asset.objects.filter(produced_by=job)  # the dead attempt's output was dropped
    assert b"attempt 2" in dead.read_input(output)
    assert storage_scan().clean


def test_a_slow_worker_that_lost_its_lease_cannot_write_anything(user):
    job = steps(user)
    zombie, zombie_token = attempt(job)
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    jobs_reap()
    run_queued_jobs()
    with pytest.raises(LeaseLost):
        zombie.progress(50)
    with pytest.raises(LeaseLost):
        zombie.save_output(kind="export", role="result", data=b"late", mime="text/plain", download_name="late.txt")
    assert job_finish_attempt(job_id=job.pk, token=zombie_token, outcome="failed", message="late") == "lease_lost"
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and Asset.objects.filter(produced_by=job).count() == 1
    assert LedgerEntry.objects.filter(job=job).count() == 2
    assert storage_scan().clean  # the refused output's blob was removed too


def test_a_job_that_keeps_losing_its_worker_fails_after_the_attempt_limit(user, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job = steps(user)
    for _ in range(2):
        attempt(job)
        Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        jobs_reap()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.attempts == 2
    assert "interrupted 2 times" in job.error_message
    assert credit_balance(user=user) == 20


def test_a_queued_job_that_lost_its_queue_entry_is_enqueued_again(user):
    job = steps(user)
    DBTaskResult.objects.filter(pk=job.task_id).delete()
    assert jobs_reap()["reenqueued"] == 0  # within the grace period nothing is touched
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert jobs_reap()["reenqueued"] == 1
    assert run_queued_jobs() == 1
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED


def test_deleting_a_job_removes_its_outputs_and_unshared_inputs_and_keeps_the_ledger(user):
    first = upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes()))
    (photo,) = first.inputs.all()
    second = job_create(owner=user, kind="preview", inputs=[photo])
    run_queued_jobs()
    blobs = [a.storage_key for a in Asset.objects.filter(produced_by=first)]
    job_delete(job=first)
    assert not Job.objects.filter(pk=first.pk).exists()
    assert not any(blob_exists(key) for key in blobs)
    assert Asset.objects.filter(pk=photo.pk).exists()  # the second job still uses it
    job_delete(job=second)
    assert not Asset.objects.filter(owner=user).exists()
    assert not blob_exists(photo.storage_key)
    assert LedgerEntry.objects.filter(user=user, job__isnull=True, kind="capture").count() == 2
    assert credit_balance(user=user) == 18
    report = storage_scan()
    assert report.clean and report.blobs == 0


def test_deleting_a_running_job_cancels_it_and_fences_its_worker(user):
    job = steps(user)
    ctx, token = attempt(job)
    job_delete(job=job)
    assert credit_balance(user=user) == 20
    with pytest.raises(LeaseLost):
        ctx.progress(10)
    assert job_finish_attempt(job_id=job.pk, token=token, outcome="succeeded") == "lease_lost"
    assert not Job.objects.exists() and not Asset.objects.exists()


def test_a_refused_upload_job_leaves_no_photo_behind(user, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "preview": 500}
    with pytest.raises(JobRefused) as refused:
        upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes()))
    assert refused.value.code == "insufficient_credits"
    assert not Asset.objects.exists()
    assert storage_scan().blobs == 0


def test_free_jobs_write_no_ledger_rows(user, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "preview": 0}
    job = upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes()))
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert not LedgerEntry.objects.filter(job=job).exists()
