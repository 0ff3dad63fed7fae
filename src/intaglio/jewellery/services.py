"""Jewellery studio writes: pieces from reference images, confirming attributes, generations, deletion, and
provider webhooks."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pydantic
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from intaglio.assets.models import Asset, AssetKind
from intaglio.assets.services import UploadRefused, asset_delete_blobs, asset_ingest_upload
from intaglio.core.audit import audit_owned
from intaglio.core.errors import Refused, validation_problems
from intaglio.imaging import ImageMemoryRefused
from intaglio.imaging.jewellery import check_preservation
from intaglio.jewellery.models import DesignCheck, Generation, Piece, ProviderTask, TaskStatus, WebhookDelivery
from intaglio.jewellery.params import MAX_IMAGES, Brief, GenerateParams
from intaglio.jewellery.prompts import METAL_NAMES, TEMPLATE_VERSION, build_prompt
from intaglio.jobs.models import TERMINAL_STATES, Job
from intaglio.jobs.services import job_create, job_delete, job_replace, job_wake
from intaglio.providers.attributes import Attributes
from intaglio.providers.registry import analysis_provider, generation_provider, generation_provider_named

log = logging.getLogger("intaglio.jewellery")

MAX_REFERENCES = 10


class JewelleryRefused(Refused):
    """A jewellery studio request we will not carry out."""


def piece_create(*, owner, uploads: list, title: str = "") -> Piece:
    """Stores 1–10 reference images and starts their analysis. Nothing is kept when any step is refused."""
    if not 1 <= len(uploads) <= MAX_REFERENCES:
        raise JewelleryRefused(
            "invalid_inputs", f"Add between 1 and {MAX_REFERENCES} reference images (you sent {len(uploads)})."
        )
    stored: list[Asset] = []
    try:
        for number, upload in enumerate(uploads, 1):
            try:
                stored.append(asset_ingest_upload(owner=owner, upload=upload, kind=AssetKind.REFERENCE_IMAGE))
            except UploadRefused as refused:
                raise UploadRefused(
                    refused.code, f"Reference {number}: {refused.message}", detail=refused.detail
                ) from None
        with transaction.atomic():
            piece = Piece.objects.create(owner=owner, title=title.strip()[:80])
            piece.references.set(stored)
            # A piece's references stay until the piece is deleted or the account closed (J21).
            Asset.objects.filter(pk__in=[asset.pk for asset in stored]).update(expires_at=None)
            for asset in stored:
                job_create(owner=owner, kind="preview", inputs=[asset])
            piece.analysis_job = job_create(
                owner=owner,
                kind="jewellery.analyse",
                params={"provider": analysis_provider().name},
                inputs=stored,
            )
            piece.save(update_fields=["analysis_job"])
    except BaseException:
        keys = [asset.storage_key for asset in stored]
        Asset.objects.filter(pk__in=[asset.pk for asset in stored]).delete()
        asset_delete_blobs(keys)
        raise
    log.info("jewellery.piece_created", extra={"piece_id": piece.pk, "references": len(stored)})
    return piece


def piece_analysis(piece: Piece) -> dict | None:
    """What analysis found, or None while it runs (or when it failed)."""
    job = piece.analysis_job
    if job is None or not job.result:
        return None
    return job.result.get("attributes")


def piece_reanalyse(*, piece: Piece) -> Job:
    """Runs analysis again (after a failure, or with another provider configured)."""
    if piece.analysis_job and piece.analysis_job.state not in TERMINAL_STATES:
        return piece.analysis_job
    job = job_create(
        owner=piece.owner,
        kind="jewellery.analyse",
        params={"provider": analysis_provider().name},
        inputs=list(piece.references.order_by("pk")),
    )
    return job_replace(holder=piece, field="analysis_job", job=job)


def attributes_validate(raw: dict) -> dict:
    try:
        return Attributes.model_validate(raw).model_dump()
    except pydantic.ValidationError as invalid:
        raise JewelleryRefused(
            "invalid_attributes", f"Some attributes are not valid: {validation_problems(invalid)}."
        ) from None


def piece_confirm(*, piece: Piece, attributes: dict, title: str | None = None) -> Piece:
    """Keeps the attributes as the user confirmed or edited them; prompts are built from these."""
    clean = attributes_validate(attributes)
    if len(clean["shots"]) != piece.references.count():
        raise JewelleryRefused("invalid_attributes", "Give one shot type per reference image.")
    piece.attributes, piece.confirmed_at = clean, timezone.now()
    fields = ["attributes", "confirmed_at"]
    if title is not None:
        piece.title, fields = title.strip()[:80], [*fields, "title"]
    elif not piece.title:
        piece.title, fields = default_title(clean), [*fields, "title"]
    piece.save(update_fields=fields)
    return piece


def default_title(attributes: dict) -> str:
    kind = attributes["type"]["value"]
    metal = METAL_NAMES.get(attributes["metal"]["value"])
    words = [kind.replace("_", " ").capitalize() if kind != "unknown" else "Piece"]
    if metal:
        words.append(metal)
    return " · ".join(words)


def brief_validate(raw: dict) -> Brief:
    try:
        return Brief.model_validate(raw)
    except pydantic.ValidationError as invalid:
        problems = validation_problems(invalid)
        raise JewelleryRefused("invalid_brief", f"Some choices are not valid: {problems}.") from None


def _seed(piece: Piece, index: int, salt: str) -> int:
    digest = hashlib.sha256(f"{piece.pk}:{index}:{salt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def generation_plan(*, piece: Piece, brief: Brief, salt: str = "") -> dict:
    """The full parameters of a generation: every image's exact prompt and seed, the template version, provider
    and model. The same plan is shown to the user and stored on the job."""
    if piece.attributes is None:
        raise JewelleryRefused("not_confirmed", "Confirm the piece's attributes first; the prompt is built from them.")
    if brief.image_count > MAX_IMAGES:
        raise JewelleryRefused(
            "invalid_brief", f"That is {brief.image_count} images; one generation makes at most {MAX_IMAGES}."
        )
    provider = generation_provider()
    metals = brief.metals or [None]
    images = []
    for metal in metals:
        prompt = build_prompt(piece.attributes, preset=brief.preset, metal=metal)
        for _variant in range(brief.variants):
            index = len(images)
            images.append({"index": index, "metal": metal, "seed": _seed(piece, index, salt), "prompt": prompt})
    params = {
        **brief.model_dump(),
        "piece_id": piece.pk,
        "attributes": piece.attributes,
        "template_version": TEMPLATE_VERSION,
        "provider": provider.name,
        "model": provider.model,
        "images": images,
    }
    return GenerateParams.model_validate(params).model_dump(mode="json")


def generation_create(*, piece: Piece, brief: Brief, idempotency_key: str | None = None) -> Generation:
    """Reserves the credits and starts the generation (one credit per image by default)."""
    if idempotency_key:
        existing = Generation.objects.filter(piece__owner=piece.owner, job__idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    salt = idempotency_key or timezone.now().isoformat()
    params = generation_plan(piece=piece, brief=brief, salt=salt)
    with transaction.atomic():
        job = job_create(
            owner=piece.owner,
            kind="jewellery.generate",
            params=params,
            inputs=list(piece.references.order_by("pk")),
            idempotency_key=idempotency_key,
        )
        if job.kind != "jewellery.generate":
            raise JewelleryRefused(
                "idempotency_conflict", "That Idempotency-Key was already used for another kind of job.", status=409
            )
        generation, _ = Generation.objects.get_or_create(job=job, defaults={"piece": piece})
    log.info("jewellery.generation_created", extra={"piece_id": piece.pk, "job_id": job.pk})
    return generation


def generation_delete(*, generation: Generation, actor) -> None:
    """Removes the generation's job and images (the references stay with the piece)."""
    job_delete(job=generation.job, actor=actor)


def piece_delete(*, piece: Piece, actor) -> int:
    """Deletes the piece and everything made from it: generations (in-flight ones are cancelled and their
    credits returned; a webhook arriving later is ignored), the analysis, the references and their previews (J17).
    Returns how many jobs went."""
    references = list(piece.references.values_list("pk", flat=True))
    jobs = list(
        Job.objects.filter(owner=piece.owner)
        .filter(Q(inputs__in=references) | Q(pk=piece.analysis_job_id))
        .distinct()
        .order_by("pk")
    )
    for job in jobs:
        job_delete(job=job)
    # The references themselves (job_delete leaves a piece's references to the piece).
    leftovers = Asset.objects.filter(pk__in=references, legal_hold=False)
    keys = list(leftovers.values_list("storage_key", flat=True))
    leftovers.delete()
    piece_id = piece.pk
    piece.delete()
    asset_delete_blobs(keys)
    audit_owned(
        "jewellery.piece_deleted",
        actor=actor,
        owner_id=piece.owner_id,
        target=("jewellery_piece", piece_id),
        detail={"jobs": len(jobs), "references": len(references)},
    )
    return len(jobs)


def webhook_receive(*, provider_name: str, headers: dict, body: bytes) -> str:
    """A provider's webhook: verified, recorded once per delivery id, and the waiting job woken to collect.

    Returns "accepted", "duplicate" or "ignored" (a delivery for a prediction we no longer track: the job was
    deleted or has ended). Raises WebhookRejected for anything that fails verification."""
    provider = generation_provider_named(provider_name)
    delivery_id, prediction = provider.parse_webhook(headers, body)
    task = (
        ProviderTask.objects.filter(provider=provider.name, prediction_id=prediction.id).select_related("job").first()
    )
    outcome = "accepted"
    if task is None or task.job.state in TERMINAL_STATES:
        outcome = "ignored"
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                provider=provider.name, delivery_id=delivery_id, prediction_id=prediction.id, outcome=outcome
            )
            if outcome == "accepted" and prediction.finished:
                ProviderTask.objects.filter(pk=task.pk, status__in=(TaskStatus.CREATED, TaskStatus.PROCESSING)).update(
                    status=prediction.status,
                    output_urls=prediction.outputs,
                    error=prediction.error[:500],
                    finished_at=timezone.now(),
                )
    except IntegrityError:
        return "duplicate"
    if outcome == "accepted":
        job_wake(job_id=task.job_id)
    log.info("jewellery.webhook", extra={"provider": provider.name, "outcome": outcome})
    return outcome


def webhooks_prune(*, keep_days: int = 30) -> int:
    cutoff = timezone.now() - timedelta(days=keep_days)
    deleted, _ = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def design_check_record(*, job: Job, image: Asset, data: bytes, references: list[bytes]) -> DesignCheck | None:
    """Compares an image a remote generator made with the piece's references and keeps the score and what changed
    with the image (once per image). An image the check cannot read is kept unchecked (None), never refused."""
    existing = DesignCheck.objects.filter(image=image).first()
    if existing is not None:
        return existing
    try:
        index = int(image.role.removeprefix("image-"))
        result = check_preservation(references, data, metal=job.params["images"][index]["metal"])
    except (ValueError, ImageMemoryRefused):
        log.warning("jewellery.design_check_unreadable", extra={"job_id": job.pk, "asset_id": image.pk})
        return None
    check, _ = DesignCheck.objects.get_or_create(
        image=image,
        defaults={
            "generation": job.jewellery_generation,
            "score": result.score,
            "changes": result.changes,
            "flagged": result.flagged,
            "measures": result.measures,
        },
    )
    log.info("jewellery.design_checked", extra={"job_id": job.pk, "score": check.score, "flagged": check.flagged})
    return check


def generation_regenerate_free(*, check: DesignCheck, idempotency_key: str | None = None) -> Generation:
    """Makes a flagged image again, once, without charge: the same prompt with a new seed. A repeat of the same
    request (same idempotency key) returns the regeneration already made; any other second request is refused."""
    with transaction.atomic():
        locked = (
            DesignCheck.objects.select_for_update(of=("self",))
            .select_related("generation__job", "generation__piece", "image")
            .get(pk=check.pk)
        )
        if locked.regeneration_id is not None:
            made = Generation.objects.select_related("job").get(pk=locked.regeneration_id)
            if idempotency_key and made.job.idempotency_key == idempotency_key:
                return made
            raise JewelleryRefused(
                "free_regeneration_used", "This image was already made again free of charge once.", status=409
            )
        original = locked.generation.job.params
        if not locked.flagged:
            raise JewelleryRefused("not_flagged", "Only an image whose design may have changed is made again free.")
        if original.get("regenerates") is not None:
            raise JewelleryRefused(
                "free_regeneration_used", "This image is already a free regeneration; generate again to retry."
            )
        index = int(locked.image.role.removeprefix("image-"))
        plan = original["images"][index]
        seed = _seed(locked.generation.piece, index, f"regenerate:{locked.pk}")
        params = {
            **original,
            "variants": 1,
            "metals": [plan["metal"]] if plan["metal"] else [],
            "images": [{**plan, "index": 0, "seed": seed}],
            "regenerates": locked.pk,
        }
        job = job_create(
            owner=locked.generation.piece.owner,
            kind="jewellery.generate",
            params=params,
            inputs=list(locked.generation.job.inputs.order_by("pk")),
            idempotency_key=idempotency_key,
        )
        if job.params.get("regenerates") != locked.pk:
            raise JewelleryRefused(
                "idempotency_conflict", "That Idempotency-Key was already used for another request.", status=409
            )
        generation, _ = Generation.objects.get_or_create(job=job, defaults={"piece": locked.generation.piece})
        locked.regeneration = generation
        locked.save(update_fields=["regeneration"])
    log.info("jewellery.free_regeneration", extra={"check_id": locked.pk, "job_id": job.pk})
    return generation
