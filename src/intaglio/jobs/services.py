"""Job writes: creation (with its credit reservation), state changes, and settling the credits at the end."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from intaglio.credits.services import InsufficientCredits, credits_capture, credits_release, credits_reserve
from intaglio.jobs.models import TERMINAL_STATES, TRANSITIONS, Job, JobState

log = logging.getLogger("intaglio.jobs")


class JobRefused(Exception):
    """A job the user may not create now; the message is safe to show."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class InvalidTransition(Exception):
    pass


def job_create(*, owner, kind: str, params: dict, credits: int, idempotency_key: str | None = None) -> Job:
    """Creates a queued job and reserves its credits in one transaction.

    The owner's row is locked first, so concurrent creations for one account are serialised and the balance
    can never be spent twice. The same idempotency key returns the job created the first time.
    """
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        if idempotency_key:
            existing = Job.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        limit = settings.PLANS[owner.plan]["concurrent_jobs"]
        active = Job.objects.filter(owner=owner).exclude(state__in=TERMINAL_STATES).count()
        if active >= limit:
            raise JobRefused(
                "plan_limit",
                f"Your plan runs {limit} jobs at a time and {active} are in progress. "
                "Wait for one to finish, or cancel one.",
            )
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    owner=owner, kind=kind, params=params, credits_reserved=credits, idempotency_key=idempotency_key
                )
        except IntegrityError:
            return Job.objects.get(owner=owner, idempotency_key=idempotency_key)
        try:
            credits_reserve(job=job, credits=credits)
        except InsufficientCredits as refusal:
            raise JobRefused("insufficient_credits", str(refusal)) from None
    log.info("job.created", extra={"job_id": job.pk, "kind": kind, "credits": credits})
    return job


def job_transition(*, job: Job, to: str, **fields) -> Job:
    """Moves a job to a new state under a row lock, refusing moves the state machine does not allow."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if to not in TRANSITIONS[locked.state]:
            raise InvalidTransition(f"job {locked.pk}: {locked.state} → {to} is not allowed")
        locked.state = to
        now = timezone.now()
        if to == JobState.RUNNING and locked.started_at is None:
            locked.started_at = now
        if to in TERMINAL_STATES:
            locked.finished_at = now
            locked.lease_until = None
            if to == JobState.SUCCEEDED:
                locked.progress = 100
                credits_capture(job=locked)
            else:
                credits_release(job=locked)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save()
    log.info("job.state", extra={"job_id": locked.pk, "state": to})
    return locked


def job_cancel(*, job: Job) -> Job:
    """A queued job stops at once; a running one is flagged and stops at its next progress report."""
    if job.state == JobState.QUEUED:
        return job_transition(job=job, to=JobState.CANCELLED)
    if job.state in TERMINAL_STATES:
        return job
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.refresh_from_db()
    return job
