"""The queue: the task a worker runs, putting a job on the queue, and settling an attempt with its next queue entry
in one transaction. A task loads ids and calls the runner; the Job row is what the user sees."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from intaglio.jobs.lifecycle import attempt_settle
from intaglio.jobs.models import Job
from intaglio.jobs.runner import job_attempt


@task()
def run_job(job_id: int) -> str:
    attempt = job_attempt(job_id=job_id)
    if attempt.outcome in ("skipped", "lease_lost"):
        return attempt.outcome
    return job_finish_attempt(
        job_id=job_id,
        token=attempt.token,
        outcome=attempt.outcome,
        message=attempt.message,
        detail=attempt.detail,
        wait_seconds=attempt.wait_seconds,
    )


def job_enqueue(job: Job, *, delay_seconds: float = 0) -> None:
    """Puts the job on the queue. Called inside the transaction that made it queued: both commit or neither."""
    entry = run_job
    if delay_seconds:
        entry = run_job.using(run_after=timezone.now() + timedelta(seconds=delay_seconds))
    result = entry.enqueue(job_id=job.pk)
    job.task_id = result.id
    Job.objects.filter(pk=job.pk).update(task_id=result.id)


def job_finish_attempt(
    *, job_id: int, token: str, outcome: str, message: str = "", detail: str = "", wait_seconds: float = 0
) -> str:
    """Records how an attempt ended (lifecycle.attempt_settle) and queues the job again when it must go on."""
    with transaction.atomic():
        job, outcome, delay = attempt_settle(
            job_id=job_id, token=token, outcome=outcome, message=message, detail=detail, wait_seconds=wait_seconds
        )
        if delay is not None:
            job_enqueue(job, delay_seconds=delay)
    return outcome
