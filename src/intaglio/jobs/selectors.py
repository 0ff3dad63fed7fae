"""Job reads, always scoped to an owner."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from intaglio.assets.models import Asset
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


def job_summary(*, owner, job_id: int) -> Job | None:
    """One of the owner's jobs as the poll (GET /jobs/{id}) answers it, or None: two queries, the job without the
    columns no answer shows, then its inputs and outputs together (the prefetch machinery of `job_summaries` costs
    more than the queries themselves at polling rates).

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
    job = next(iter(Job.objects.filter(owner=owner, pk=job_id).defer("result", "error_detail").order_by()[:1]), None)
    if job is None:
        return None
    inputs = Job.inputs.through.objects.filter(job_id=job.pk).values("asset_id")
    files = (
        Asset.objects.only(*_FILE_SUMMARY_FIELDS, "produced_by")
        .filter(Q(produced_by_id=job.pk) | Q(pk__in=inputs))
        .order_by("pk")
    )
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
