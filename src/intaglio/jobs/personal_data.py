"""What jobs holds about a person: every job with its settings and states, and how closure deletes them."""

from __future__ import annotations

from django.db.models import Q

from intaglio.assets.models import Asset
from intaglio.core.personal_data import Erasure, PersonalData, Section, Subject, iso, kept_as_content, register
from intaglio.jobs.models import Job
from intaglio.jobs.services import job_delete


def held_job_ids(user) -> set[int]:
    """Jobs that use or made a file under legal hold: they stay with the file."""
    held = Asset.objects.filter(owner=user, legal_hold=True)
    return set(
        Job.objects.filter(owner=user)
        .filter(Q(inputs__in=held) | Q(outputs__in=held))
        .values_list("pk", flat=True)
        .distinct()
    )


def _section() -> Section:
    return Section("jobs", "Jobs with their settings and states", *kept_as_content(), "To run the work you asked for.")


def _export(subject: Subject) -> list[dict]:
    if subject.user is None:
        return []
    jobs = Job.objects.filter(owner=subject.user).prefetch_related("inputs", "outputs").order_by("pk")
    return [
        {
            "id": j.pk,
            "kind": j.kind,
            "state": j.state,
            "params": j.params,
            "progress": j.progress,
            "attempts": j.attempts,
            "error_message": j.error_message,
            "credits_reserved": j.credits_reserved,
            "created_at": iso(j.created_at),
            "started_at": iso(j.started_at),
            "finished_at": iso(j.finished_at),
            "inputs": sorted(a.pk for a in j.inputs.all()),
            "outputs": sorted(a.pk for a in j.outputs.all()),
        }
        for j in jobs
    ]


def _erase(erasure: Erasure) -> dict[str, int]:
    # job_delete cancels a job still in flight first, so no worker writes for it again.
    deleted = 0
    for job in Job.objects.filter(owner=erasure.user).exclude(pk__in=held_job_ids(erasure.user)).order_by("pk"):
        job_delete(job=job)
        deleted += 1
    return {"jobs": deleted}


def declare() -> None:
    register(PersonalData(app="jobs", section=_section, position=50, export=_export, erase=_erase, erase_order=20))
