"""Job writes: creation (credits reserved, work enqueued), state changes, settling, retries, the reaper, deletion."""

from __future__ import annotations

import logging
from datetime import timedelta

import pydantic
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from intaglio.assets.models import Asset, RetentionClass
from intaglio.assets.services import asset_delete_blobs, asset_ingest_upload
from intaglio.core.audit import audit_owned
from intaglio.core.errors import Refused, validation_problems
from intaglio.core.models import PeriodicRun
from intaglio.credits.services import InsufficientCredits, credits_reserve
from intaglio.jobs.kinds import UnknownJobKind, get_kind, kinds_outside_plan_limit
from intaglio.jobs.lifecycle import discard_task, job_move, job_requeue, private_copies_of
from intaglio.jobs.models import TERMINAL_STATES, Job, JobState
from intaglio.jobs.tasks import job_enqueue

log = logging.getLogger("intaglio.jobs")


# HTTP status per refusal code; refusals about the request's content (invalid_params, …) are 422.
REFUSAL_STATUS = {"insufficient_credits": 402, "plan_limit": 409, "restricted": 403}


class JobRefused(Refused):
    """A job the user may not create now."""

    statuses = REFUSAL_STATUS


def _validated(kind_name: str, params: dict, inputs: list[Asset]):
    try:
        kind = get_kind(kind_name)
    except UnknownJobKind:
        raise JobRefused("unknown_kind", f"There is no job kind called {kind_name!r}.") from None
    try:
        clean = kind.params.model_validate(params).model_dump(mode="json")
    except pydantic.ValidationError as invalid:
        problems = validation_problems(invalid, whole="params")
        raise JobRefused("invalid_params", f"Some settings are not valid: {problems}.") from None
    if not kind.inputs_min <= len(inputs) <= kind.inputs_max:
        wanted = str(kind.inputs_min) if kind.inputs_min == kind.inputs_max else f"{kind.inputs_min}–{kind.inputs_max}"
        raise JobRefused("invalid_inputs", f"{kind.label} takes {wanted} file(s), not {len(inputs)}.")
    return kind, clean


def job_create(*, owner, kind: str, params: dict | None = None, inputs=(), idempotency_key: str | None = None) -> Job:
    """Creates a queued job, reserves its credits and puts it on the queue, all in one transaction.

    The owner's row is locked first, so concurrent creations for one account are serialised and the balance
    can never be spent twice. The same idempotency key returns the job created the first time.
    """
    inputs = list(inputs)
    if any(asset.owner_id != owner.pk for asset in inputs):
        raise JobRefused("invalid_inputs", "One of the files does not exist.")
    job_kind, clean = _validated(kind, params or {}, inputs)
    with transaction.atomic():
        locked_owner = get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        if idempotency_key:
            existing = Job.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        # Restriction or objection (J27): nothing new starts; what is stored stays. Read under the lock, so a
        # restriction set a moment ago holds even if the caller's copy of the user is older.
        if locked_owner is not None and locked_owner.restricted:
            raise JobRefused(
                "restricted",
                "Processing is paused on your account because you asked us to restrict it, so no new job can "
                "start. Everything you stored is kept. You can lift the restriction on the Your data page.",
            )
        # The files are locked too: a file the retention sweeper removed a moment ago (its row is gone, or it is
        # expired and about to go) is refused with a message rather than a database error.
        if inputs:
            present = set(
                Asset.objects.select_for_update()
                .filter(pk__in=[a.pk for a in inputs])
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
                .values_list("pk", flat=True)
            )
            if len(present) < len({a.pk for a in inputs}):
                raise JobRefused(
                    "invalid_inputs",
                    "One of the files has expired and was removed under our retention rules. Upload it again.",
                )
        if job_kind.counts_toward_plan_limit:
            limit = settings.PLANS[owner.plan]["concurrent_jobs"]
            active = (
                Job.objects.filter(owner=owner)
                .exclude(state__in=TERMINAL_STATES)
                .exclude(kind__in=kinds_outside_plan_limit())
                .count()
            )
            if active >= limit:
                raise JobRefused(
                    "plan_limit",
                    f"Your plan runs {limit} jobs at a time and {active} are in progress. "
                    "Wait for one to finish, or cancel one.",
                )
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    owner=owner,
                    kind=kind,
                    params=clean,
                    credits_reserved=job_kind.cost_for(clean),
                    idempotency_key=idempotency_key,
                )
        except IntegrityError:
            return Job.objects.get(owner=owner, idempotency_key=idempotency_key)
        try:
            credits_reserve(job=job, credits=job.credits_reserved)
        except InsufficientCredits as refusal:
            raise JobRefused("insufficient_credits", str(refusal)) from None
        if inputs:
            job.inputs.set(inputs)
            # An upload's clock stops while jobs use it (it restarts when the last one ends); a feedback photo keeps
            # its own (E12), the sweeper leaving it alone while a job still needs it.
            photo_ids = [a.pk for a in inputs if a.retention_class == RetentionClass.PRIVATE_UPLOAD]
            Asset.objects.filter(pk__in=photo_ids).update(expires_at=None)
            private_copies_of(photo_ids).update(expires_at=None)
        job_enqueue(job)
    log.info("job.created", extra={"job_id": job.pk, "kind": kind, "credits": job.credits_reserved})
    return job


def upload_photo(*, owner, upload) -> Job:
    """Stores an uploaded photo and queues the job that makes its thumbnail and preview."""
    asset = asset_ingest_upload(owner=owner, upload=upload)
    try:
        return job_create(owner=owner, kind="preview", inputs=[asset])
    except JobRefused:
        # Without its job the photo would sit unused until it expires: remove it now.
        asset.delete()
        asset_delete_blobs([asset.storage_key])
        raise


def job_cancel(*, job: Job) -> Job:
    """A queued (or provider-waiting) job stops at once; a running one is flagged and stops at its next progress
    report."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.state in (JobState.QUEUED, JobState.WAITING_PROVIDER):
            discard_task(locked)
            return job_move(locked, JobState.CANCELLED)
        if locked.state == JobState.RUNNING:
            locked.cancel_requested = True
            locked.save(update_fields=["cancel_requested"])
        return locked


def job_wake(*, job_id: int) -> bool:
    """A job waiting on a provider looks again now (its webhook arrived) instead of at its next poll."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id, state=JobState.WAITING_PROVIDER).first()
        if job is None:
            return False
        discard_task(job)
        job_enqueue(job)
    return True


def jobs_reap() -> dict[str, int]:
    """Re-queues jobs whose worker died (lease lapsed) and queued jobs that lost their queue entry.

    A lapsed job goes back to the queue with its attempt count kept (the next start adds one); after
    JOB_MAX_ATTEMPTS it fails and its credits are released, so no job stays running forever.
    """
    now = timezone.now()
    counts = {"requeued": 0, "failed": 0, "reenqueued": 0}
    for job_id in Job.objects.filter(state=JobState.RUNNING, lease_until__lt=now).values_list("pk", flat=True):
        with transaction.atomic():
            job = Job.objects.select_for_update().filter(pk=job_id, state=JobState.RUNNING, lease_until__lt=now).first()
            if job is None:
                continue
            discard_task(job, reason=f"worker lost: lease expired at {job.lease_until.isoformat()}")
            detail = f"attempt {job.attempts}: the worker stopped renewing its lease (killed or stuck)"
            if job.attempts >= settings.JOB_MAX_ATTEMPTS:
                message = f"This job was interrupted {job.attempts} times and has been stopped."
                job_move(job, JobState.FAILED, error_message=message, error_detail=detail)
                counts["failed"] += 1
            else:
                job_requeue(job, detail=detail)
                job_enqueue(job)
                counts["requeued"] += 1
        log.warning("job.lease_expired", extra={"job_id": job_id})

    # A queued job whose queue entry is missing, finished, or claimed by a worker that died before it started
    # the job would otherwise wait forever.
    grace = now - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    live = Q(status=TaskResultStatus.READY) | Q(status=TaskResultStatus.RUNNING, started_at__gte=grace)
    stranded = Job.objects.filter(state__in=(JobState.QUEUED, JobState.WAITING_PROVIDER), created_at__lt=grace).exclude(
        Exists(DBTaskResult.objects.filter(live, pk=OuterRef("task_id")))
    )
    for job_id in stranded.values_list("pk", flat=True):
        with transaction.atomic():
            # Checked again under the lock: a worker may have picked the job up meanwhile.
            job = stranded.select_for_update().filter(pk=job_id).first()
            if job is None:
                continue
            discard_task(job, reason="stranded: re-enqueued by the reaper")
            job_enqueue(job)
            counts["reenqueued"] += 1
        log.warning("job.reenqueued", extra={"job_id": job_id})
    return counts


def job_delete(*, job: Job, actor=None) -> None:
    """Deletes a job, its outputs and every input no other job of the owner uses; blobs go after the commit.

    A job still in flight is cancelled first (credits released); its worker's next fenced write then fails and
    it stops without writing anything. With an `actor` (a person deleting it) the deletion is audited; the
    system's own deletions (closure, replacing a gallery) are audited by their callers.
    """
    with transaction.atomic():
        locked = Job.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None:
            return
        if locked.state not in TERMINAL_STATES:
            discard_task(locked)
            job_move(locked, JobState.CANCELLED)
        used_elsewhere = Job.objects.filter(inputs=OuterRef("pk")).exclude(pk=locked.pk)
        # A file under legal hold stays whatever the user deletes; it loses only its link to this job.
        # A jewellery piece's references belong to the piece, not to a job: they go when the piece is deleted.
        doomed = (
            Asset.objects.filter(
                Q(produced_by=locked) | Q(pk__in=locked.inputs.filter(~Exists(used_elsewhere)).values("pk"))
            )
            .exclude(legal_hold=True)
            .exclude(reference_of__isnull=False)
        )
        keys = list(doomed.values_list("storage_key", flat=True))
        doomed.delete()
        DBTaskResult.objects.filter(pk=locked.task_id).exclude(status=TaskResultStatus.RUNNING).delete()
        locked.delete()
    failed = asset_delete_blobs(keys)
    if actor is not None:
        audit_owned(
            "job.deleted",
            actor=actor,
            owner_id=job.owner_id,
            target=("job", job.pk),
            detail={"kind": job.kind, "files": len(keys)},
        )
    log.info("job.deleted", extra={"job_id": job.pk, "blobs": len(keys), "blob_failures": failed})


def job_replace(*, holder, field: str, job: Job) -> Job:
    """Points `holder.field` at a new job and deletes the job it replaces (a new style gallery or a new analysis
    supersedes the old one, files and all)."""
    previous = getattr(holder, field)
    setattr(holder, field, job)
    holder.save(update_fields=[field])
    if previous is not None:
        job_delete(job=previous)
    return job


def jobs_prune_history(*, keep_days: int = 14) -> dict[str, int]:
    """Drops finished queue entries and scheduler records older than `keep_days` (the Job rows stay)."""
    cutoff = timezone.now() - timedelta(days=keep_days)
    finished = (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
    tasks, _ = DBTaskResult.objects.filter(status__in=finished, finished_at__lt=cutoff).delete()
    runs, _ = PeriodicRun.objects.filter(started_at__lt=cutoff).delete()
    return {"task_results": tasks, "periodic_runs": runs}
