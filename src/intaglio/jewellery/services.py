"""Jewellery studio writes: pieces from reference images, confirming attributes, generations, deletion, and
provider webhooks."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from functools import partial

import pydantic
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from intaglio.assets.models import Asset, AssetKind
from intaglio.assets.services import UploadRefused, asset_delete_blobs, asset_ingest_upload, uploads_store
from intaglio.core.audit import audit_owned
from intaglio.core.errors import Refused, validation_problems
from intaglio.credits.selectors import credit_balance
from intaglio.imaging import ImageMemoryRefused
from intaglio.imaging.jewellery import check_preservation
from intaglio.jewellery.models import (
    Batch,
    DesignCheck,
    Generation,
    Piece,
    ProviderTask,
    StyleKit,
    TaskStatus,
    WebhookDelivery,
)
from intaglio.jewellery.params import MAX_IMAGES, Brief, GenerateParams
from intaglio.jewellery.prompts import METAL_NAMES, PRESETS, TEMPLATE_VERSION, build_prompt
from intaglio.jewellery.selectors import pieces_chosen
from intaglio.jobs.kinds import get_kind
from intaglio.jobs.models import TERMINAL_STATES, Job
from intaglio.jobs.services import JobRefused, job_create, job_delete, job_replace, job_wake
from intaglio.providers.attributes import Attributes
from intaglio.providers.registry import analysis_provider, generation_provider, generation_provider_named

log = logging.getLogger("intaglio.jewellery")

MAX_REFERENCES = 10


class JewelleryRefused(Refused):
    """A jewellery studio request we will not carry out."""


class ReferencesRefused(UploadRefused):
    """No reference of a batch was acceptable: `refused` holds each file (position from 0, name, refusal), `lines`
    each file with its reason, and the message is `headline` followed by the lines (the first file's code and
    status)."""

    def __init__(self, refused: list[tuple[int, str, Refused]]):
        first = refused[0][2]
        self.refused = refused
        self.lines = [refused_reference_line(name, refusal) for _, name, refusal in refused]
        self.headline = "" if len(refused) == 1 else f"None of the {len(refused)} files was kept."
        super().__init__(first.code, " ".join([self.headline, *self.lines]).strip(), status=first.status)


def piece_create(*, owner, uploads: list, title: str = "") -> Piece:
    """Stores 1–10 reference images and starts their analysis.

    Files are judged one by one: every acceptable file is kept and each refused one is listed, with its own
    reason, in the piece's `refused_uploads` (position from 0, file name, refusal). When none is acceptable nothing
    is kept and the refusal names every file with its reason."""
    if not 1 <= len(uploads) <= MAX_REFERENCES:
        raise JewelleryRefused(
            "invalid_inputs", f"Add between 1 and {MAX_REFERENCES} reference images (you sent {len(uploads)})."
        )
    batch = uploads_store(
        files=uploads, store=partial(asset_ingest_upload, owner=owner, kind=AssetKind.REFERENCE_IMAGE)
    )
    stored: list[Asset] = batch.stored
    if not stored:
        raise ReferencesRefused(batch.refused)
    try:
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
    piece.refused_uploads = batch.refused
    log.info(
        "jewellery.piece_created",
        extra={"piece_id": piece.pk, "references": len(stored), "refused": len(batch.refused)},
    )
    return piece


def refused_reference_line(name: str, refusal: Refused) -> str:
    """One refused reference as a person reads it: “ring.heic: This file is not an image …”."""
    return f"{name or 'A file without a name'}: {refusal.message}"


def refused_reference_lines(piece: Piece) -> list[str]:
    """Each reference `piece_create` did not keep, with its reason (empty for a piece read back later)."""
    return [refused_reference_line(name, refusal) for _, name, refusal in getattr(piece, "refused_uploads", [])]


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
    preset = PRESETS[brief.preset]
    if preset.staging not in provider.stagings:
        offered = " or ".join(p.label for p in PRESETS.values() if p.staging in provider.stagings)
        raise JewelleryRefused(
            "preset_unavailable",
            f"“{preset.label}” needs an image service, and the renderer set up here cannot make it. "
            f"Choose {offered}; nothing was charged.",
        )
    if brief.angle != "as_reference" and "new_angle" not in provider.stagings:
        raise JewelleryRefused(
            "angle_unavailable",
            "Another camera angle than the references' needs an image service, and the renderer set up here cannot "
            "make it. Choose “As in the references”; nothing was charged.",
        )
    metals = brief.metals or [None]
    images = []
    for metal in metals:
        prompt = build_prompt(
            piece.attributes, preset=brief.preset, metal=metal, angle=brief.angle, shadow=brief.shadow
        )
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


def generation_create(
    *, piece: Piece, brief: Brief, idempotency_key: str | None = None, batch: Batch | None = None
) -> Generation:
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
        generation, _ = Generation.objects.get_or_create(job=job, defaults={"piece": piece, "batch": batch})
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


# --- style kits, remembered choices and batches (a catalogue, not one piece at a time)

MAX_BATCH_PIECES = 100


def piece_brief_save(*, piece: Piece, brief: Brief) -> None:
    """Remembers the step-3 choices on the piece, so a reload (or another device) shows them as left."""
    choices = brief.model_dump()
    if piece.brief != choices:
        Piece.objects.filter(pk=piece.pk).update(brief=choices)
        piece.brief = choices


def style_kit_save(*, owner, name: str, brief: Brief) -> StyleKit:
    """Saves the choices under a name (replacing a kit of the same name): the look of a catalogue."""
    name = " ".join(name.split())[:60]
    if not name:
        raise JewelleryRefused("invalid_kit", "Give the style kit a name.")
    kit, created = StyleKit.objects.get_or_create(owner=owner, name=name, defaults={"brief": brief.model_dump()})
    if not created:
        kit.brief, kit.updated_at = brief.model_dump(), timezone.now()
        kit.save(update_fields=["brief", "updated_at"])
    return kit


def style_kit_delete(*, kit: StyleKit) -> None:
    kit.delete()


def style_kit_brief(kit: StyleKit) -> Brief:
    """The kit's choices as a brief (a kit saved before a choice was withdrawn is refused with a reason)."""
    try:
        return Brief.model_validate(kit.brief)
    except pydantic.ValidationError as invalid:
        problems = validation_problems(invalid)
        raise JewelleryRefused(
            "invalid_kit", f"The style kit {kit.name!r} holds choices no longer offered: {problems}."
        ) from None


def batch_pieces(*, owner, piece_ids: list[int]) -> list[Piece]:
    """The owner's pieces named by `piece_ids`, in that order; a piece that is not theirs is "not found"."""
    pieces = pieces_chosen(owner=owner, piece_ids=piece_ids)
    if len(pieces) != len(dict.fromkeys(piece_ids)):
        raise JewelleryRefused("not_found", "One of the pieces does not exist.", status=404)
    return pieces


def batch_quote(*, owner, pieces: list[Piece], brief: Brief) -> dict:
    """What a batch would make and cost: images and credits per piece and in total, before anything starts.

    Pieces whose attributes are not confirmed yet are refused by name: their prompt cannot be built."""
    if not 1 <= len(pieces) <= MAX_BATCH_PIECES:
        raise JewelleryRefused("invalid_batch", f"Choose between 1 and {MAX_BATCH_PIECES} pieces.")
    if any(piece.owner_id != owner.pk for piece in pieces):
        raise JewelleryRefused("invalid_batch", "One of the pieces does not exist.", status=404)
    unconfirmed = [piece.title or f"Piece #{piece.pk}" for piece in pieces if piece.attributes is None]
    if unconfirmed:
        raise JewelleryRefused(
            "not_confirmed", f"Confirm the attributes of {', '.join(unconfirmed)} first; prompts are built from them."
        )
    kind = get_kind("jewellery.generate")
    lines = []
    for piece in pieces:
        plan = generation_plan(piece=piece, brief=brief)
        lines.append({"piece_id": piece.pk, "images": len(plan["images"]), "credits": kind.cost_for(plan)})
    total = sum(line["credits"] for line in lines)
    return {
        "pieces": lines,
        "images": sum(line["images"] for line in lines),
        "credits": total,
        "balance": credit_balance(user=owner),
    }


def batch_create(
    *,
    owner,
    pieces: list[Piece],
    brief: Brief,
    confirmed_credits: int,
    kit_name: str = "",
    idempotency_key: str | None = None,
) -> Batch:
    """Starts generations for every piece with one brief, after one confirmation of the total price.

    `confirmed_credits` is the total the owner saw and accepted; a different total (prices or choices changed
    meanwhile) is refused, as is a balance below it. Generations start at once up to the plan's concurrency; the
    rest start as earlier ones finish (`batches_advance`)."""
    if idempotency_key:
        existing = Batch.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    quote = batch_quote(owner=owner, pieces=pieces, brief=brief)
    if quote["credits"] != confirmed_credits:
        raise JewelleryRefused(
            "price_changed",
            f"The batch now costs {quote['credits']} credits, not the {confirmed_credits} you confirmed. Check and "
            "confirm again.",
            status=409,
        )
    if quote["balance"] < quote["credits"]:
        raise JewelleryRefused(
            "insufficient_credits",
            f"The batch costs {quote['credits']} credits and your balance is {quote['balance']}. Nothing was started.",
            status=402,
        )
    try:
        batch = Batch.objects.create(
            owner=owner,
            kit_name=kit_name[:60],
            brief=brief.model_dump(),
            piece_ids=[piece.pk for piece in pieces],
            pending=[piece.pk for piece in pieces],
            credits=quote["credits"],
            idempotency_key=idempotency_key,
        )
    except IntegrityError:
        return Batch.objects.get(owner=owner, idempotency_key=idempotency_key)
    log.info("jewellery.batch_created", extra={"batch_id": batch.pk, "pieces": len(pieces)})
    batch_advance(batch=batch)
    return batch


def batch_advance(*, batch: Batch) -> int:
    """Starts the batch's next generations while the plan allows; returns how many started.

    Each piece's generation has its own idempotency key, so advancing twice (two schedulers, a retry) never starts
    one twice. A piece deleted meanwhile is skipped; credits that ran short skip the rest, with the reason kept."""
    started = 0
    brief = Brief.model_validate(batch.brief)
    while True:
        with transaction.atomic():
            locked = Batch.objects.select_for_update().filter(pk=batch.pk).first()
            if locked is None or not locked.pending:
                break
            piece_id = locked.pending[0]
            piece = Piece.objects.filter(pk=piece_id, owner_id=locked.owner_id).first()
            try:
                if piece is not None:
                    generation_create(
                        piece=piece, brief=brief, idempotency_key=f"batch:{locked.pk}:{piece_id}", batch=locked
                    )
                    started += 1
                else:
                    locked.skipped[str(piece_id)] = "The piece was deleted."
            except JobRefused as refused:
                if refused.code == "plan_limit":
                    break  # the next one starts when a slot frees up
                locked.skipped.update({str(pk): refused.message for pk in locked.pending})
                locked.pending = []
            else:
                locked.pending = locked.pending[1:]
            Batch.objects.filter(pk=locked.pk).update(pending=locked.pending, skipped=locked.skipped)
    batch.refresh_from_db(fields=["pending", "skipped"])
    return started


def batches_advance() -> int:
    """Every batch with pieces still waiting, advanced (the scheduler calls this)."""
    return sum(batch_advance(batch=batch) for batch in Batch.objects.exclude(pending=[]).order_by("pk"))


REFERENCE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".tif", ".tiff"})


def folder_pieces(folder) -> list[tuple[str, list]]:
    """The pieces a folder of references describes: each sub-folder is one piece with its images (up to
    MAX_REFERENCES), each image directly in the folder a piece of its own. Titles are the folder or file names."""
    from pathlib import Path

    root = Path(folder)
    if not root.is_dir():
        raise JewelleryRefused("invalid_folder", f"{root} is not a folder.")

    def images(directory: Path) -> list[Path]:
        return sorted(
            path for path in directory.iterdir() if path.is_file() and path.suffix.lower() in REFERENCE_SUFFIXES
        )

    pieces = [(path.stem, [path]) for path in images(root)]
    for directory in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")):
        found = images(directory)
        if found:
            pieces.append((directory.name, found[:MAX_REFERENCES]))
    if not pieces:
        kinds = ", ".join(sorted(REFERENCE_SUFFIXES))
        raise JewelleryRefused("invalid_folder", f"No reference images ({kinds}) in {root}.")
    return pieces


def piece_accept_analysis(*, piece: Piece) -> Piece:
    """Confirms the attributes exactly as analysis found them (for batches run without a person checking each)."""
    found = piece_analysis(piece)
    if found is None:
        raise JewelleryRefused("not_analysed", f"{piece.title or 'The piece'} has no analysis to accept.")
    return piece_confirm(piece=piece, attributes=found)


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
