"""The job state machine and the bookkeeping of attempts, shared by the queue (tasks.py) and the services.

A transition is applied to a job the caller has locked; the end of a job settles its credits and starts the
retention clock of its inputs. Putting a job on the queue is the caller's part (tasks.job_enqueue), inside the
same transaction.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.services import asset_delete_blobs
from intaglio.credits.services import credits_capture, credits_release
from intaglio.jobs.models import TERMINAL_STATES, TRANSITIONS, Job, JobState

log = logging.getLogger("intaglio.jobs")


class InvalidTransition(Exception):
    pass


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: uniform in [c / 2, c] with c = base·2^(n−1), capped (so retries of many
    jobs failing together spread out, yet none comes back sooner than half its step)."""
    ceiling = min(settings.JOB_RETRY_MAX_SECONDS, settings.JOB_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - timing jitter, not security


def job_move(job: Job, to: str, **fields) -> Job:
    """Applies a transition to a job the caller has locked; settles credits when the job ends."""
    if to not in TRANSITIONS[job.state]:
        raise InvalidTransition(f"job {job.pk}: {job.state} → {to} is not allowed")
    job.state = to
    now = timezone.now()
    if to == JobState.RUNNING and job.started_at is None:
        job.started_at = now
    if to in TERMINAL_STATES:
        job.finished_at = now
        job.lease_until = None
        job.lease_token = ""
        if to == JobState.SUCCEEDED:
            job.progress = 100
            credits_capture(job=job)
        else:
            credits_release(job=job)
            _discard_outputs(job)
    for name, value in fields.items():
        setattr(job, name, value)
    job.save()
    if to in TERMINAL_STATES:
        _start_input_expiry(job)
    log.info("job.state", extra={"job_id": job.pk, "state": to})
    return job


def _discard_outputs(job: Job) -> None:
    """A job that failed or was cancelled keeps no output: its credits come back, so nothing it made stays (a
    resumable job may have stored some images before the failure). The blobs go once the transaction commits."""
    outputs = Asset.objects.filter(produced_by=job).exclude(legal_hold=True)
    keys = list(outputs.values_list("storage_key", flat=True))
    if keys:
        outputs.delete()
        transaction.on_commit(lambda: asset_delete_blobs(keys))


def _start_input_expiry(job: Job) -> None:
    """An upload's retention clock starts when the last job using it ends; its scaled copies (previews) share it.

    Jewellery reference images have no such clock: they stay until their piece is deleted or the account
    closed (J21)."""
    expires = timezone.now() + timedelta(days=settings.RETENTION_UPLOAD_AFTER_JOB_DAYS)
    busy = Job.objects.filter(inputs=OuterRef("pk")).exclude(state__in=TERMINAL_STATES)
    # Only uploads: a feedback photo keeps its own clock (E12), and made files used as inputs (a card's files
    # for its reading) are account content.
    idle = list(
        job.inputs.filter(~Exists(busy), retention_class=RetentionClass.PRIVATE_UPLOAD)
        .exclude(kind=AssetKind.REFERENCE_IMAGE)
        .values_list("pk", flat=True)
    )
    Asset.objects.filter(pk__in=idle).update(expires_at=expires)
    private_copies_of(idle).update(expires_at=expires)


def private_copies_of(photo_ids) -> QuerySet[Asset]:
    """The private-upload outputs (thumbnails, web previews) of jobs over these photos."""
    return Asset.objects.filter(retention_class=RetentionClass.PRIVATE_UPLOAD, produced_by__inputs__in=photo_ids)


def job_transition(*, job: Job, to: str, **fields) -> Job:
    """Moves a job to a new state under a row lock, refusing moves the state machine does not allow."""
    with transaction.atomic():
        return job_move(Job.objects.select_for_update().get(pk=job.pk), to, **fields)


def discard_task(job: Job, *, reason: str = "") -> None:
    """A queue entry that must not run (job cancelled or deleted) or that died with its worker."""
    if job.task_id is None:
        return
    DBTaskResult.objects.filter(pk=job.task_id, status=TaskResultStatus.READY).delete()
    DBTaskResult.objects.filter(pk=job.task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now(), traceback=reason or "discarded by intaglio"
    )


def attempt_settle(
    *, job_id: int, token: str, outcome: str, message: str = "", detail: str = "", wait_seconds: float = 0
) -> tuple[Job | None, str, float | None]:
    """Records how an attempt ended, if that attempt still holds the job (otherwise it changes nothing).

    Runs inside the caller's transaction. Returns the job, the outcome, and the delay after which the job must go
    back on the queue (None when it must not)."""
    job = Job.objects.select_for_update().filter(pk=job_id, lease_token=token, state=JobState.RUNNING).first()
    if job is None:
        return None, "lease_lost", None
    if outcome == "waiting":
        # The worker is free again; the queue entry looks at the provider after the wait.
        job_move(job, JobState.WAITING_PROVIDER, lease_until=None, lease_token="")
        return job, outcome, wait_seconds
    if outcome == "succeeded":
        job_move(job, JobState.SUCCEEDED)
    elif outcome == "cancelled":
        job_move(job, JobState.CANCELLED)
    elif outcome == "retry" and job.attempts < settings.JOB_MAX_ATTEMPTS:
        delay = retry_delay(job.attempts)
        job_requeue(job, detail=detail)
        log.info("job.retry", extra={"job_id": job.pk, "attempt": job.attempts, "delay_s": round(delay, 1)})
        return job, "retry", delay
    else:
        if outcome == "retry":
            message = f"{message.rstrip('.')}. We tried {job.attempts} times and stopped."
        job_move(job, JobState.FAILED, error_message=message[:500], error_detail=detail)
    return job, outcome, None


def job_requeue(job: Job, *, detail: str) -> None:
    """Back to queued for another attempt (the caller enqueues it)."""
    job_move(job, JobState.QUEUED, lease_until=None, lease_token="", error_detail=detail)
