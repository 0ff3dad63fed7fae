"""Job reads, always scoped to an owner."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

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
