"""Job reads, always scoped to an owner."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from intaglio.assets.models import Asset
from intaglio.core.hotreads import HotRead, selected
from intaglio.jobs.models import TERMINAL_STATES, Job


def job_list(*, owner, state: str | None = None) -> QuerySet[Job]:
    jobs = Job.objects.filter(owner=owner).prefetch_related(
        Prefetch("outputs", queryset=Asset.objects.order_by("pk")),
        Prefetch("inputs", queryset=Asset.objects.order_by("pk")),
    )
    return jobs.filter(state=state) if state else jobs


def job_get(*, owner, job_id: int) -> Job | None:
    return job_list(owner=owner).filter(pk=job_id).first()


# The columns of a job's files that an API answer shows (api.routers.jobs.AssetOut), and the key that ties an output
# to its job (the prefetch matches on it).
_FILE_SUMMARY_FIELDS = (
    "id", "kind", "role", "title", "mime", "bytes", "width", "height", "download_name", "created_at",
)  # fmt: skip


def job_summaries(*, owner, state: str | None = None) -> QuerySet[Job]:
    """The owner's jobs as the API answers them (GET /jobs, the poll GET /jobs/{id}): three queries for any number
    of jobs, without the columns no answer shows. The job's internal result and error detail, which can be large,
    stay in the database; each file brings only the columns its summary shows.

    Parameters
    ----------
    owner : User
        Whose jobs.
    state : str, optional
        Only the jobs in this state.

    Returns
    -------
    QuerySet[Job]
        With `inputs` and `outputs` prefetched in primary-key order, like `job_list`.
    """
    files = Asset.objects.only(*_FILE_SUMMARY_FIELDS).order_by("pk")
    jobs = (
        Job.objects.filter(owner=owner)
        .defer("result", "error_detail")
        .prefetch_related(
            Prefetch("outputs", queryset=files.only(*_FILE_SUMMARY_FIELDS, "produced_by")),
            Prefetch("inputs", queryset=files),
        )
    )
    return jobs.filter(state=state) if state else jobs


# The poll's two reads, precompiled (see core.hotreads): the job without the columns no answer shows, then its inputs
# and outputs together.
_JOB_POLL_FIELDS = selected(
    Job,
    "id",
    "owner_id",
    "kind",
    "state",
    "params",
    "progress",
    "attempts",
    "error_message",
    "created_at",
    "started_at",
    "finished_at",
    "cancel_requested",
    "credits_reserved",
)
_JOB_POLL = HotRead(
    f'SELECT {_JOB_POLL_FIELDS.columns("j")} FROM "{Job._meta.db_table}" j WHERE j."owner_id" = %s AND j."id" = %s',  # noqa: S608
    [_JOB_POLL_FIELDS],
)
_FILE_POLL_FIELDS = selected(Asset, *_FILE_SUMMARY_FIELDS, "produced_by_id")
_JOB_FILES_POLL = HotRead(
    f'SELECT {_FILE_POLL_FIELDS.columns("a")} FROM "{Asset._meta.db_table}" a WHERE a."produced_by_id" = %s '  # noqa: S608
    f'OR a."id" IN (SELECT i."asset_id" FROM "{Job.inputs.through._meta.db_table}" i WHERE i."job_id" = %s) '
    'ORDER BY a."id"',
    [_FILE_POLL_FIELDS],
)


def job_summary(*, owner, job_id: int) -> Job | None:
    """One of the owner's jobs as the poll (GET /jobs/{id}) answers it, or None: two precompiled queries, the job
    without the columns no answer shows, then its inputs and outputs together (building and compiling querysets, or
    the prefetch machinery of `job_summaries`, costs several times the queries themselves at polling rates).

    Parameters
    ----------
    owner : User
        Whose job.
    job_id : int
        Which job.

    Returns
    -------
    Job or None
        With its files as lists in primary-key order on `input_summaries` and `output_summaries`.
    """
    found = _JOB_POLL.run([owner.pk, job_id])
    if not found:
        return None
    ((job,),) = found
    files = [file for (file,) in _JOB_FILES_POLL.run([job.pk, job.pk])]
    # A job's outputs are made after its inputs were chosen, so no file is both.
    job.output_summaries = [file for file in files if file.produced_by_id == job.pk]
    job.input_summaries = [file for file in files if file.produced_by_id != job.pk]
    return job


def job_output(job: Job, role: str) -> Asset | None:
    """The job's output with this role (e.g. "thumbnail"), from the prefetched outputs."""
    return next((asset for asset in job.outputs.all() if asset.role == role), None)


def previews_pending(*, owner, asset_ids: list[int]) -> bool:
    """Whether a preview job for any of these files is still in progress."""
    if not asset_ids:
        return False
    return (
        job_list(owner=owner).filter(kind="preview", inputs__in=asset_ids).exclude(state__in=TERMINAL_STATES).exists()
    )


def active_job_count(*, owner) -> int:
    """Jobs of the owner not yet finished (queued, running or waiting on a provider)."""
    return Job.objects.filter(owner=owner).exclude(state__in=TERMINAL_STATES).count()
