"""Jobs: the work an upload (and later, a studio) starts; their progress, results, cancelling and deleting."""

# No `from __future__ import annotations` here: @paginate resolves list_jobs's signature in its own module.
import functools
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import get_script_prefix, reverse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from intaglio.api.errors import ApiError, ErrorOut
from intaglio.api.pagination import Paginated
from intaglio.api.schemas import IdempotencyKey, StrictIn
from intaglio.assets.selectors import asset_get
from intaglio.core.access import NotOwned, owned
from intaglio.jobs import selectors, services
from intaglio.jobs.kinds import registered_kinds
from intaglio.jobs.models import JobState

router = Router(tags=["jobs"])


class AssetOut(Schema):
    id: int
    kind: str = Field(description="What the file is: source_photo, preview, artwork, …")
    role: str = Field(description='Which of a job\'s outputs it is (e.g. "web", "thumbnail"); empty for uploads.')
    title: str = Field(
        description="An upload's name: its file's name when uploaded (cleaned), as renamed since; empty for outputs."
    )
    mime: str
    bytes: int
    width: int | None
    height: int | None
    download_name: str = Field(description="The file name downloads are offered under.")
    created_at: datetime
    content_url: str = Field(description="GET it (with your credentials) for the bytes.")
    download_url: str = Field(description="The same bytes, offered as an attachment to save.")

    @staticmethod
    def resolve_content_url(obj) -> str:
        return asset_content_url(obj.id)

    @staticmethod
    def resolve_download_url(obj) -> str:
        return f"{asset_content_url(obj.id)}?download=true"


def asset_content_url(asset_id: int) -> str:
    return f"{settings.BASE_URL}{_asset_content_path(get_script_prefix()).format(asset_id)}"


@functools.cache
def _asset_content_path(script_prefix: str) -> str:
    # Reversed once per script prefix (reverse() reads it), not twice per file of every answer: "/…/assets/{}/content".
    return reverse("api-v1:asset_content", kwargs={"asset_id": 2**31}).replace(str(2**31), "{}")


class JobOut(Schema):
    id: int
    kind: str = Field(description='What the job does, e.g. "preview" (made for every uploaded photo).')
    state: JobState = Field(
        description="queued → running (→ waiting_provider) → succeeded, failed or cancelled; the last three are final."
    )
    progress: int = Field(description="0–100.")
    attempts: int = Field(description="How many times a worker has started the job (failed attempts are retried).")
    error_message: str = Field(description="Why the job failed, when it did; empty otherwise.")
    params: dict[str, Any] = Field(description="The settings the job runs with.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool = Field(description="A running job stops at its next step once this is set.")
    credits_reserved: int = Field(description="Credits held for the job: spent if it succeeds, returned otherwise.")
    inputs: list[AssetOut]
    outputs: list[AssetOut] = Field(description="The files the job made (none until it succeeds).")

    # The poll's selector (jobs.selectors.job_summary) brings the files along as lists; other jobs prefetch them.
    @staticmethod
    def resolve_inputs(obj) -> list:
        listed = getattr(obj, "input_summaries", None)
        return listed if listed is not None else list(obj.inputs.all())

    @staticmethod
    def resolve_outputs(obj) -> list:
        listed = getattr(obj, "output_summaries", None)
        return listed if listed is not None else list(obj.outputs.all())


@router.get(
    "/jobs",
    response=list[JobOut],
    summary="List your jobs, newest first",
    description="Optionally only the jobs in one `state`. Each job lists its input and output files.",
)
@paginate(Paginated)
def list_jobs(request, state: JobState | None = None):
    return selectors.job_summaries(owner=request.auth, state=state)


class JobKindOut(Schema):
    kind: str = Field(description='The name POST /jobs takes, e.g. "engrave.prepare".')
    label: str = Field(description="What the kind is called in the app.")
    credits: int = Field(description="Credits a job of this kind reserves when it starts: spent if it succeeds.")


# Declared before /jobs/{job_id}, which would otherwise take "kinds" for a job id.
@router.get(
    "/jobs/kinds",
    response=list[JobKindOut],
    summary="The job kinds and what each costs",
    description="So a client can show the price of a job before starting it (compare GET /credits).",
)
def list_job_kinds(request):
    return [{"kind": kind.name, "label": kind.label, "credits": kind.cost} for kind in registered_kinds()]


@router.get(
    "/jobs/{job_id}",
    response=JobOut,
    summary="One job: its state, progress and files",
    description="Poll this until `state` is final. Outputs carry the URLs their bytes are served from.",
)
def get_job(request, job_id: int):
    job = selectors.job_summary(owner=request.auth, job_id=job_id)
    if job is None:
        raise NotOwned("No such job.")
    return job


class JobIn(StrictIn):
    kind: str = Field(max_length=40, description='The job kind, e.g. "engrave.prepare".')
    params: dict[str, Any] = Field(default_factory=dict, description="The kind's settings (see its documentation).")
    inputs: list[int] = Field(default_factory=list, max_length=10, description="Ids of your files the job reads.")


@router.post(
    "/jobs",
    response={201: JobOut, 402: ErrorOut, 409: ErrorOut},
    summary="Start a job",
    description=(
        "Creates a job of `kind` over your files `inputs` with `params`, reserves its credits and queues it. "
        "`engrave.prepare` takes one photo and `params` {material, machine, width_mm, height_mm?, fit?, mode?, dpi?, "
        "adjustments?{brightness, contrast, gamma, auto_levels_clip, clahe, sharpen_amount, sharpen_radius_mm, "
        "denoise, invert, isolate_subject}, serpentine?, threshold?, cell_mm?, lpi?, angle_deg?} and makes a PNG with "
        "its DPI, an SVG, G-code and a preview of the burn (see GET /engrave/library for the names). Send an "
        "`Idempotency-Key` header to make retries safe: the same key returns the job made the first time. Refusals: "
        "422 `invalid_params`, `invalid_inputs` or `unknown_kind`; 402 `insufficient_credits`; 409 `plan_limit`."
    ),
)
def create_job(request, payload: JobIn, idempotency_key: IdempotencyKey = None):
    inputs = [asset_get(owner=request.auth, asset_id=asset_id) for asset_id in payload.inputs]
    if None in inputs:
        raise ApiError(422, "invalid_inputs", "One of the input files does not exist.")
    job = services.job_create(
        owner=request.auth,
        kind=payload.kind,
        params=payload.params,
        inputs=inputs,
        idempotency_key=idempotency_key,
    )
    return Status(201, owned(selectors.job_list, owner=request.auth, pk=job.pk))


@router.post(
    "/jobs/{job_id}/cancel",
    response={200: JobOut, 409: ErrorOut},
    summary="Cancel a job",
    description=(
        "A queued job is cancelled at once and its reserved credits are returned. A running job gets "
        "`cancel_requested` and stops at its next step. Cancelling a cancelled job changes nothing; a job that "
        "already succeeded or failed answers 409 `job_finished`."
    ),
)
def cancel_job(request, job_id: int):
    job = owned(selectors.job_list, owner=request.auth, pk=job_id, missing="No such job.")
    if job.state in (JobState.SUCCEEDED, JobState.FAILED):
        raise ApiError(409, "job_finished", f"This job has already {job.state}; there is nothing to cancel.")
    services.job_cancel(job=job)
    return owned(selectors.job_list, owner=request.auth, pk=job_id, missing="No such job.")


@router.delete(
    "/jobs/{job_id}",
    response={204: None},
    summary="Delete a job and its files",
    description=(
        "Deletes the job, every file it made, and its input files unless another of your jobs uses them. "
        "A job still in progress is cancelled first (its reserved credits are returned)."
    ),
)
def delete_job(request, job_id: int):
    job = owned(selectors.job_list, owner=request.auth, pk=job_id, missing="No such job.")
    services.job_delete(job=job, actor=request.auth)
    return Status(204, None)
