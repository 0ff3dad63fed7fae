"""Jewellery job kinds: analysis (reference images → attributes) and generation (prompt + references → images).

Generation with a remote provider is split into submit → wait → collect: each image is one prediction, submitted
once and never again (a repeated submit could make and bill the image twice); the job then waits without holding a
worker until the provider's webhook wakes it or its next poll comes due, and copies each finished image into our
storage at once.
"""

from __future__ import annotations

import io
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from intaglio.assets.models import AssetKind
from intaglio.assets.services import asset_signed_url
from intaglio.jewellery.credentials import CredentialsUnavailable, mark_generated
from intaglio.jewellery.models import IN_FLIGHT, ProviderTask, TaskStatus
from intaglio.jewellery.params import AnalyseParams, GenerateParams, generate_units
from intaglio.jewellery.prompts import PRESETS
from intaglio.jewellery.services import design_check_record
from intaglio.jobs.kinds import JobKind, register
from intaglio.jobs.models import TERMINAL_STATES
from intaglio.jobs.runner import PermanentJobError, TransientJobError, WaitForProvider
from intaglio.providers.base import (
    GenerationRequest,
    Prediction,
    ProviderRefused,
    ProviderUnavailable,
    ReferenceImage,
    SubmitUncertain,
)
from intaglio.providers.registry import analysis_provider_named, generation_provider_named

FAILED_STATUSES = (TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.TIMEOUT, TaskStatus.UNCERTAIN)


def _references(ctx, *, with_bytes: bool = True) -> list[ReferenceImage]:
    """The job's reference images, each with a signed link that expires within 15 minutes (J8). A provider that
    takes only the links gets no bytes, so no file is read for it."""
    return [
        ReferenceImage(
            data=ctx.read_input(asset) if with_bytes else b"",
            mime=asset.mime,
            url=asset_signed_url(asset=asset, seconds=settings.PROVIDER_SIGNED_URL_SECONDS),
        )
        for asset in ctx.inputs
    ]


def _provider_failure(exc: Exception) -> Exception:
    if isinstance(exc, ProviderUnavailable):
        return TransientJobError(str(exc))
    return PermanentJobError(str(exc))


def analyse(ctx) -> None:
    params = AnalyseParams(**ctx.params)
    provider = analysis_provider_named(params.provider)
    references = _references(ctx)
    ctx.progress(10)
    try:
        attributes = provider.analyse(references)
    except (ProviderUnavailable, ProviderRefused) as exc:
        raise _provider_failure(exc) from exc
    ctx.progress(90)
    ctx.save_result({"attributes": attributes, "provider": provider.name, "model": provider.model})


def _output_name(params: GenerateParams, index: int, mime: str) -> str:
    plan = params.images[index]
    metal = f"-{plan.metal.replace('_', '-')}" if plan.metal else ""
    extension = {"image/png": "png", "image/webp": "webp"}.get(mime, "jpg")
    return f"jewellery-{params.piece_id}-{params.preset.replace('_', '-')}{metal}-{index + 1}.{extension}"


def _save_image(ctx, params: GenerateParams, index: int, data: bytes, mime: str, provider):
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    try:
        data = mark_generated(data, mime, provider=provider.name, generator=provider.model)
    except CredentialsUnavailable as unsigned:
        raise PermanentJobError(
            "The images could not be marked as generated (the server's signing certificate needs attention), so "
            "none is delivered unmarked. The credits for this generation have been returned."
        ) from unsigned
    return ctx.save_output(
        kind=AssetKind.GENERATED_IMAGE,
        role=f"image-{index}",
        data=data,
        mime=mime,
        download_name=_output_name(params, index, mime),
        width=width,
        height=height,
    )


def _request(params: GenerateParams, index: int, references) -> GenerationRequest:
    plan = params.images[index]
    preset = PRESETS[params.preset]
    return GenerationRequest(
        prompt=plan.prompt,
        references=tuple(references),
        aspect_ratio=params.aspect_ratio,
        seed=plan.seed,
        preset=params.preset,
        metal=plan.metal,
        staging=preset.staging,
        zoom=preset.zoom,
        shadow=params.shadow != "none",
    )


def generate(ctx) -> None:
    params = GenerateParams(**ctx.params)
    provider = generation_provider_named(params.provider)
    if provider.asynchronous:
        _generate_remote(ctx, params, provider)
        return
    references = _references(ctx)
    # Images an earlier, interrupted attempt already stored are kept (the kind is resumable), not made twice.
    collected = set(ctx.job.outputs.values_list("role", flat=True))
    # How much each image's piece was enlarged from its reference (the studio says so under a soft one).
    enlarged = dict((ctx.job.result or {}).get("enlarged") or {})
    for index in range(len(params.images)):
        if f"image-{index}" in collected:
            continue
        try:
            rendered = provider.render(_request(params, index, references))
        except (ProviderUnavailable, ProviderRefused) as exc:
            raise _provider_failure(exc) from exc
        _save_image(ctx, params, index, rendered.data, rendered.mime, provider)
        enlarged[f"image-{index}"] = rendered.enlargement
        ctx.save_result({"enlarged": enlarged})
        ctx.progress(5 + 90 * (index + 1) // len(params.images))


def _webhook_url() -> str | None:
    if not settings.WAVESPEED_WEBHOOK_SECRET:
        return None  # without a secret a webhook could not be verified: poll instead
    return f"{settings.BASE_URL}{reverse('webhook-provider', args=['wavespeed'])}"


def _update_task(ctx, task: ProviderTask, **fields) -> None:
    """Changes a provider task, if this attempt still holds the job."""
    with ctx.still_held():
        for name, value in fields.items():
            setattr(task, name, value)
        task.save(update_fields=list(fields))


def _record(ctx, task: ProviderTask, prediction: Prediction) -> None:
    _update_task(
        ctx,
        task,
        status=prediction.status,
        output_urls=prediction.outputs,
        error=prediction.error[:500],
        finished_at=timezone.now() if prediction.finished else None,
    )


def _generate_remote(ctx, params: GenerateParams, provider) -> None:
    job = ctx.job
    with ctx.still_held():
        for plan in params.images:
            ProviderTask.objects.get_or_create(
                job=job, index=plan.index, defaults={"owner_id": job.owner_id, "provider": provider.name}
            )
    tasks = list(ProviderTask.objects.filter(job=job).order_by("index"))
    collected = set(job.outputs.values_list("role", flat=True))
    reference_bytes: list[bytes] = []

    # Collect: look at what was sent (a webhook may already have told us), copy finished images in at once.
    for task in tasks:
        if f"image-{task.index}" in collected or task.status == TaskStatus.PENDING:
            continue
        if task.status == TaskStatus.SUBMITTING:
            # An earlier attempt died between sending the submit and recording its answer: whether the image
            # exists at the provider is unknown, and sending it again could make (and bill) it twice.
            _update_task(ctx, task, status=TaskStatus.UNCERTAIN)
        if task.status in (TaskStatus.CREATED, TaskStatus.PROCESSING):
            try:
                prediction = provider.result(task.prediction_id)
            except (ProviderUnavailable, ProviderRefused) as exc:
                raise _provider_failure(exc) from exc
            _record(ctx, task, prediction)
        if task.status == TaskStatus.COMPLETED:
            if not task.output_urls:
                raise PermanentJobError(f"The image service finished image {task.index + 1} but sent no picture.")
            try:
                data, mime = provider.download(task.output_urls[0])
            except (ProviderUnavailable, ProviderRefused) as exc:
                raise _provider_failure(exc) from exc
            image = _save_image(ctx, params, task.index, data, mime, provider)
            # Every image from a remote generator is compared with the references (design preservation).
            reference_bytes = reference_bytes or [ctx.read_input(asset) for asset in ctx.inputs]
            design_check_record(job=job, image=image, data=data, references=reference_bytes)
            collected.add(f"image-{task.index}")
        elif task.status in FAILED_STATUSES:
            reason = {
                TaskStatus.UNCERTAIN: "we could not confirm it was received, and it is never sent twice",
                TaskStatus.TIMEOUT: "it timed out at the provider",
                TaskStatus.CANCELLED: "it was cancelled at the provider",
            }.get(task.status, (task.error or "the provider reported a failure").rstrip("."))
            raise PermanentJobError(
                f"Image {task.index + 1} of {len(tasks)} could not be made: {reason}. "
                "The credits for this generation have been returned."
            )
    ctx.progress(5 + 90 * len(collected) // len(tasks))
    if len(collected) == len(tasks):
        return

    # Submit what waits, within the account's share of the provider's concurrency.
    references = None
    in_flight = ProviderTask.objects.filter(
        owner_id=job.owner_id, provider=provider.name, status__in=IN_FLIGHT
    ).exclude(job__state__in=TERMINAL_STATES)
    free = settings.WAVESPEED_MAX_CONCURRENT_PER_ACCOUNT - in_flight.count()
    for task in [task for task in tasks if task.status == TaskStatus.PENDING][: max(free, 0)]:
        references = references or _references(ctx, with_bytes=False)
        _update_task(ctx, task, status=TaskStatus.SUBMITTING, submitted_at=timezone.now())
        try:
            prediction_id = provider.submit(_request(params, task.index, references), webhook_url=_webhook_url())
        except ProviderUnavailable:
            # Refused before it was accepted (429): nothing exists at the provider, so it waits for a later turn.
            _update_task(ctx, task, status=TaskStatus.PENDING)
            break
        except SubmitUncertain as exc:
            _update_task(ctx, task, status=TaskStatus.UNCERTAIN, error=str(exc)[:500])
            raise PermanentJobError(
                f"The image service did not confirm image {task.index + 1}, so the generation was stopped rather "
                "than risk making it twice. The credits have been returned; you can generate again."
            ) from exc
        except ProviderRefused as exc:
            _update_task(ctx, task, status=TaskStatus.FAILED, error=str(exc)[:500])
            raise PermanentJobError(f"The image service refused image {task.index + 1}: {exc}") from exc
        _update_task(ctx, task, status=TaskStatus.CREATED, prediction_id=prediction_id)

    if job.started_at and timezone.now() > job.started_at + timedelta(minutes=settings.WAVESPEED_DEADLINE_MINUTES):
        raise PermanentJobError(
            f"The image service did not finish within {settings.WAVESPEED_DEADLINE_MINUTES} minutes. "
            "The credits for this generation have been returned."
        )
    # A webhook that arrived while this attempt ran could not wake it: look again at once rather than at the poll.
    answered = ProviderTask.objects.filter(job=job, status__in=(TaskStatus.COMPLETED, *FAILED_STATUSES)).count()
    raise WaitForProvider(0 if answered > len(collected) else settings.WAVESPEED_POLL_SECONDS)


register(
    JobKind(
        name="jewellery.analyse",
        label="Jewellery analysis",
        run=analyse,
        params=AnalyseParams,
        inputs_min=1,
        inputs_max=10,
    )
)
register(
    JobKind(
        name="jewellery.generate",
        label="Jewellery images",
        run=generate,
        params=GenerateParams,
        inputs_min=1,
        inputs_max=10,
        units=generate_units,
        resumable=True,
    )
)
