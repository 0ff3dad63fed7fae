"""Jobs as the pages show them: a label for the kind, a badge for the state, the files it read and made."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages

from intaglio.assets.models import Asset
from intaglio.jobs import selectors as job_selectors
from intaglio.jobs.kinds import UnknownJobKind, get_kind
from intaglio.jobs.models import TERMINAL_STATES, Job, JobState

DASHBOARD_JOBS = 50

# (label, tone) per state; the tone picks the badge colour.
STATE_DISPLAY = {
    JobState.QUEUED: ("Queued", "wait"),
    JobState.RUNNING: ("Processing", "busy"),
    JobState.WAITING_PROVIDER: ("Waiting for provider", "busy"),
    JobState.SUCCEEDED: ("Ready", "ok"),
    JobState.FAILED: ("Failed", "bad"),
    JobState.CANCELLED: ("Cancelled", "off"),
}
FILE_ROLES = {"web": "Web preview", "thumbnail": "Thumbnail"}


def kind_label(kind: str) -> str:
    try:
        return get_kind(kind).label
    except UnknownJobKind:
        return kind.replace("_", " ").replace(".", " ").capitalize()


@dataclass
class JobCard:
    """A job as the pages show it."""

    job: Job
    label: str
    state_label: str
    tone: str
    is_terminal: bool
    thumbnail: Asset | None
    preview: Asset | None


def job_card(job: Job) -> JobCard:
    state_label, tone = STATE_DISPLAY.get(job.state, (job.state, "off"))
    if job.state == JobState.RUNNING and job.cancel_requested:
        state_label = "Stopping"
    return JobCard(
        job=job,
        label=kind_label(job.kind),
        state_label=state_label,
        tone=tone,
        is_terminal=job.state in TERMINAL_STATES,
        thumbnail=job_selectors.job_output(job, "thumbnail"),
        preview=job_selectors.job_output(job, "web"),
    )


def job_list_context(user) -> dict:
    cards = [job_card(job) for job in job_selectors.job_list(owner=user)[: DASHBOARD_JOBS + 1]]
    return {
        "cards": cards[:DASHBOARD_JOBS],
        "more_jobs": len(cards) > DASHBOARD_JOBS,
        "jobs_active": any(not card.is_terminal for card in cards[:DASHBOARD_JOBS]),
    }


def _file_entry(title: str, asset: Asset) -> dict:
    return {"title": title, "asset": asset, "type": asset.mime.rpartition("/")[2].upper()}


def _job_files(job: Job) -> list[dict]:
    files = [_file_entry("Your photo", asset) for asset in job.inputs.all()]
    files += [_file_entry(FILE_ROLES.get(a.role, a.role.capitalize() or "Result"), a) for a in job.outputs.all()]
    return files


def job_panel_context(job: Job) -> dict:
    card = job_card(job)
    inputs = list(job.inputs.all())
    return {
        "card": card,
        "job": job,
        "files": _job_files(job),
        "hero": card.preview or (inputs[0] if inputs else None),
    }


def job_cancel_message(job: Job) -> tuple[int, str]:
    """(message level, text) after cancelling: cancelled, stopping at its next step, or already finished."""
    if job.state == JobState.CANCELLED:
        return messages.SUCCESS, "Job cancelled. Any credits it held are back in your balance."
    if job.cancel_requested and job.state not in TERMINAL_STATES:
        return messages.INFO, "Stopping the job: it ends at its next step."
    return messages.INFO, "This job had already finished, so there was nothing to cancel."
