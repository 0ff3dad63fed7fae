"""Running one attempt of a job: claim it with a lease, keep the lease alive, do the work (tasks.py settles it).

Every write a worker makes is fenced by the attempt's lease token: once the token changed (the lease lapsed and
the reaper handed the job on, or the job was cancelled or deleted), the old attempt can no longer write progress,
outputs or a final state. That is what keeps effects from being duplicated when a worker is slow rather than dead.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import traceback
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from intaglio.assets.models import Asset
from intaglio.assets.services import asset_delete_blobs
from intaglio.assets.storage import blob_open, blob_write
from intaglio.imaging import ImageMemoryBusy, ImageMemoryRefused
from intaglio.jobs.kinds import get_kind
from intaglio.jobs.models import Job, JobState

log = logging.getLogger("intaglio.jobs")

GENERIC_FAILURE = "Something went wrong while processing this job. Any credits it held have been returned."


class JobError(Exception):
    """Raised by a job kind; the message is shown to the user."""


class PermanentJobError(JobError):
    """Retrying cannot help (bad input, refused by a provider): fail now."""


class TransientJobError(JobError):
    """Worth retrying later (timeouts, 5xx, 429, a storage hiccup)."""


class JobCancelled(Exception):
    pass


class WaitForProvider(Exception):  # noqa: N818 - a signal, not an error
    """The work is with an outside provider: release the worker and look again after `seconds` (or sooner, when
    the provider's webhook wakes the job)."""

    def __init__(self, seconds: float):
        super().__init__(f"waiting {seconds:g} s for the provider")
        self.seconds = seconds


class LeaseLost(Exception):
    """Another attempt owns the job now, or it was cancelled or deleted: stop without writing anything."""


def _lease_until():
    return timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientJobError | DatabaseError | ConnectionError | TimeoutError | ImageMemoryBusy):
        return True
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import ReadTimeoutError
    except ImportError:  # pragma: no cover - botocore is installed with django-storages[s3]
        return False
    return isinstance(exc, BotoConnectionError | ReadTimeoutError)


class LeaseKeeper(threading.Thread):
    """Renews the lease every third of its length while the attempt works; notices when it was lost."""

    def __init__(self, job_id: int, token: str):
        super().__init__(name=f"lease-{job_id}", daemon=True)
        self.job_id, self.token = job_id, token
        self.stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.JOB_LEASE_SECONDS / 3):
                try:
                    renewed = Job.objects.filter(pk=self.job_id, lease_token=self.token, state=JobState.RUNNING).update(
                        lease_until=_lease_until()
                    )
                except DatabaseError:
                    log.warning("job.lease_renew_failed", extra={"job_id": self.job_id}, exc_info=True)
                    continue
                if not renewed:
                    self.lost = True
                    return
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join()


class JobContext:
    """What a job kind's function gets: its params and inputs, progress reports, and a way to store outputs."""

    def __init__(self, job: Job, token: str, keeper: LeaseKeeper):
        self.job = job
        self.params = job.params
        self._token = token
        self._keeper = keeper

    @property
    def inputs(self) -> list[Asset]:
        return list(self.job.inputs.order_by("pk"))

    def read_input(self, asset: Asset) -> bytes:
        """The bytes of one of this job's files. A worker reads an upload only through the job it was given to
        (E1): anything that is not an input or an output of this job is refused."""
        mine = Asset.objects.filter(pk=asset.pk).filter(Q(input_of=self.job.pk) | Q(produced_by=self.job.pk))
        if not mine.exists():
            raise PermanentJobError("This job may only read its own files.")
        with blob_open(asset.storage_key) as handle:
            return handle.read()

    def save_result(self, result: dict) -> None:
        """Stores the job's small JSON answer, if this attempt still holds the job."""
        fenced = Job.objects.filter(pk=self.job.pk, lease_token=self._token, state=JobState.RUNNING)
        if not fenced.update(result=result):
            raise LeaseLost()
        self.job.result = result

    def still_held(self):
        """A context manager for a kind's own writes: inside it the job is locked and still this attempt's."""
        return _Held(self.job.pk, self._token)

    def progress(self, percent: int) -> None:
        """Records progress; this is also where a cancel request or a lost lease stops the work."""
        if self._keeper.lost:
            raise LeaseLost()
        fenced = Job.objects.filter(pk=self.job.pk, lease_token=self._token, state=JobState.RUNNING)
        if not fenced.filter(cancel_requested=False).update(progress=max(0, min(99, int(percent)))):
            if fenced.filter(cancel_requested=True).exists():
                raise JobCancelled()
            raise LeaseLost()

    def save_output(
        self, *, kind: str, role: str, data: bytes, mime: str, download_name: str, width=None, height=None
    ) -> Asset:
        """Stores one output. The blob is written first; the row only if this attempt still holds the lease."""
        asset = Asset(
            owner_id=self.job.owner_id,
            kind=kind,
            role=role,
            mime=mime,
            sha256=hashlib.sha256(data).hexdigest(),
            bytes=len(data),
            width=width,
            height=height,
            download_name=download_name,
            retention_class=get_kind(self.job.kind).output_retention,
            produced_by_id=self.job.pk,
        )
        blob_write(asset.storage_key, data)
        try:
            with transaction.atomic():
                if not _locked_if_held(self.job.pk, self._token):
                    raise LeaseLost()
                asset.save()
        except BaseException:
            asset_delete_blobs([asset.storage_key])
            raise
        return asset


class _Held:
    def __init__(self, job_id: int, token: str):
        self._atomic = transaction.atomic()
        self._job_id, self._token = job_id, token

    def __enter__(self):
        self._atomic.__enter__()
        try:
            if not _locked_if_held(self._job_id, self._token):
                raise LeaseLost()
        except BaseException as exc:
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def __exit__(self, *exc_info):
        return self._atomic.__exit__(*exc_info)


def _locked_if_held(job_id: int, token: str) -> Job | None:
    return Job.objects.select_for_update().filter(pk=job_id, lease_token=token, state=JobState.RUNNING).first()


def _claim(job_id: int) -> tuple[Job, str, list[str]] | None:
    """queued → running with a fresh lease token and attempt + 1; None when the job is not ours to run.

    A job waiting on a provider is claimed the same way when its poll comes due (or a webhook wakes it); looking
    again is not a new attempt, so it keeps its attempt count."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state not in (JobState.QUEUED, JobState.WAITING_PROVIDER):
            return None
        token = uuid.uuid4().hex
        if job.state == JobState.QUEUED:
            job.attempts += 1
        job.state = JobState.RUNNING
        job.lease_token = token
        job.lease_until = _lease_until()
        job.started_at = job.started_at or timezone.now()
        job.progress = 0
        job.save(update_fields=["state", "attempts", "lease_token", "lease_until", "started_at", "progress"])
        # Outputs of an earlier attempt that died half-way are dropped, so a retry never duplicates them (a
        # resumable kind keeps what it collected: each of its outputs is complete on its own).
        stale = []
        if not get_kind(job.kind).resumable:
            stale = list(Asset.objects.filter(produced_by=job).values_list("storage_key", flat=True))
            Asset.objects.filter(produced_by=job).delete()
    return job, token, stale


@dataclass(frozen=True)
class Attempt:
    """How one attempt ended: succeeded, waiting, cancelled, retry or failed (to be settled by the queue), or
    skipped (not ours to run) and lease_lost (another attempt owns the job), which change nothing."""

    outcome: str
    token: str = ""
    message: str = ""
    detail: str = ""
    wait_seconds: float = 0.0


def job_attempt(*, job_id: int) -> Attempt:
    """Runs one attempt of a job: claim it, keep its lease, do the work. Settling the outcome is tasks.py's."""
    claimed = _claim(job_id)
    if claimed is None:
        return Attempt("skipped")
    job, token, stale = claimed
    asset_delete_blobs(stale)
    log.info("job.started", extra={"job_id": job.pk, "kind": job.kind, "attempt": job.attempts})
    keeper = LeaseKeeper(job.pk, token)
    keeper.start()
    outcome, message, detail, wait = "succeeded", "", "", 0.0
    try:
        get_kind(job.kind).run(JobContext(job, token, keeper))
    except WaitForProvider as waiting:
        outcome, wait = "waiting", waiting.seconds
    except LeaseLost:
        outcome = "lease_lost"
    except JobCancelled:
        outcome = "cancelled"
    except PermanentJobError as exc:
        outcome, message, detail = "failed", str(exc), traceback.format_exc()
    except ImageMemoryRefused as exc:  # the image is too big to open here: another attempt would be no different
        outcome, message, detail = "failed", exc.message, traceback.format_exc()
    except Exception as exc:
        outcome = "retry" if is_transient(exc) else "failed"
        message = str(exc) if isinstance(exc, JobError) else GENERIC_FAILURE
        detail = traceback.format_exc()
    finally:
        keeper.stop()
    if outcome == "lease_lost":
        log.warning("job.lease_lost", extra={"job_id": job.pk, "attempt": job.attempts})
        return Attempt(outcome, token)
    close_old_connections()  # a long attempt may have outlived its connection; start the settling on a fresh one
    return Attempt(outcome, token, message, detail, wait)
