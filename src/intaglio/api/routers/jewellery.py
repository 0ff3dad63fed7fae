"""The jewellery studio: reference images → analysis → confirmed attributes → prompt → generated images.

A client drives it like this: POST /jewellery/pieces with 1–10 reference images (an analysis job starts), poll
GET /jewellery/pieces/{id} until `analysis` is filled, PUT the attributes you confirm (or edit), POST …/prompt to see
the exact prompts a brief makes, then POST …/generations and poll GET /jewellery/generations/{id} until its job
succeeded; each image has a download URL.
"""

# No `from __future__ import annotations` here: @paginate resolves the list operations' signatures in this module.
from datetime import datetime
from typing import Annotated

import pydantic
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from intaglio.api.errors import ApiError, ErrorOut
from intaglio.api.pagination import Paginated
from intaglio.api.routers.jobs import AssetOut, JobOut
from intaglio.api.routers.uploads import RefusedFileOut, _request_files, _upload_body, refused_files_answer
from intaglio.api.schemas import IdempotencyKey, RecordId, StrictIn
from intaglio.core.access import owned
from intaglio.imaging.jewellery import vocabulary
from intaglio.jewellery import selectors, services
from intaglio.jewellery.params import MAX_VARIANTS, Brief
from intaglio.jewellery.prompts import ASPECT_RATIOS, PRESETS, TEMPLATE_VERSION
from intaglio.jobs.kinds import get_kind
from intaglio.jobs.models import JobState
from intaglio.jobs.selectors import job_list
from intaglio.providers.attributes import Attributes

router = Router(tags=["jewellery"])


class JewelleryPresetOut(Schema):
    name: str
    label: str
    scene: str = Field(description="What the preset adds to the prompt.")
    available: bool = Field(
        description="Whether the configured image generator can make it; generating with one that is not available "
        "is refused (422 `preset_unavailable`) and costs nothing."
    )


class VocabularyOut(Schema):
    types: list[str]
    metals: list[str]
    variant_metals: list[str]
    stone_colours: list[str]
    stone_cuts: list[str]
    finishes: list[str]
    shots: list[str]
    presets: list[JewelleryPresetOut]
    aspect_ratios: list[str]
    max_variants: int
    template_version: str = Field(description="The prompt templates in use; stored with every generation.")
    credits_per_image: int


@router.get(
    "/jewellery/vocabulary",
    response=VocabularyOut,
    summary="Attribute words, presets and aspect ratios",
    description='Every attribute may also be "unknown".',
)
def vocabulary_(request):
    offered = selectors.presets_offered()
    return {
        "types": list(vocabulary.PIECE_TYPES),
        "metals": list(vocabulary.METALS),
        "variant_metals": list(vocabulary.VARIANT_METALS),
        "stone_colours": list(vocabulary.STONE_COLOURS),
        "stone_cuts": list(vocabulary.STONE_CUTS),
        "finishes": list(vocabulary.FINISHES),
        "shots": list(vocabulary.SHOT_TYPES),
        "presets": [
            {"name": name, "label": p.label, "scene": p.scene, "available": offered[name]}
            for name, p in PRESETS.items()
        ],
        "aspect_ratios": list(ASPECT_RATIOS),
        "max_variants": MAX_VARIANTS,
        "template_version": TEMPLATE_VERSION,
        "credits_per_image": get_kind("jewellery.generate").cost,
    }


class AnalysisStatusOut(Schema):
    job_id: int | None
    state: JobState | None = Field(description="The analysis job's state; null when it was removed.")
    error_message: str
    provider: str | None
    model: str | None


class PieceOut(Schema):
    id: int
    title: str
    created_at: datetime
    references: list[AssetOut]
    analysis_status: AnalysisStatusOut
    analysis: Attributes | None = Field(description="What analysis found (null while it runs).")
    attributes: Attributes | None = Field(description="What you confirmed; prompts are built from these.")
    confirmed_at: datetime | None
    brief: Brief | None = Field(description="The generate step's choices as last left in the studio (null until then).")

    @staticmethod
    def resolve_references(obj) -> list:
        return list(obj.references.all())

    @staticmethod
    def resolve_brief(obj) -> dict | None:
        try:
            return Brief.model_validate(obj.brief).model_dump() if obj.brief else None
        except pydantic.ValidationError:  # choices saved before one was withdrawn: as if none were left
            return None

    @staticmethod
    def resolve_analysis_status(obj) -> dict:
        job = obj.analysis_job
        result = (job.result or {}) if job else {}
        return {
            "job_id": job.pk if job else None,
            "state": job.state if job else None,
            "error_message": job.error_message if job else "",
            "provider": result.get("provider"),
            "model": result.get("model"),
        }

    @staticmethod
    def resolve_analysis(obj):
        return services.piece_analysis(obj)


class PieceCreatedOut(PieceOut):
    refused: list[RefusedFileOut] = Field(description="The reference images that were not kept, and why.")

    @staticmethod
    def resolve_refused(obj) -> list[dict]:
        return [
            {"file_index": index, "code": refusal.code, "message": refusal.message}
            for index, _, refusal in getattr(obj, "refused_uploads", [])
        ]


def _piece_body() -> dict:
    body = _upload_body()
    form = body["content"]["multipart/form-data"]["schema"]
    form["properties"]["files"]["maxItems"] = services.MAX_REFERENCES
    form["properties"]["title"] = {"type": "string", "maxLength": 80, "pattern": r"^[^\x00-\x1f\x7f]*$"}
    return body


@router.post(
    "/jewellery/pieces",
    response={201: PieceCreatedOut, 402: ErrorOut, 409: ErrorOut, 413: ErrorOut, 415: ErrorOut},
    openapi_extra={"requestBody": _piece_body()},
    summary="Start a piece from 1–10 reference images (analysis starts)",
    description=(
        "Send the reference images (CAD renders, sketches, product photos) as `multipart/form-data` parts named "
        "`files`, and optionally a `title`. They are checked and cleaned like any upload, one by one: every "
        "acceptable image is kept, and `refused` lists each other one with its own `code` and `message`. When none "
        "is kept the answer is an error with the first file's status and code, and `details` lists every file "
        '(`loc: ["files", index]`). A jewellery.analyse job starts at once; poll GET /jewellery/pieces/{id}.'
    ),
)
def create_piece(request):
    files = _request_files(request, fields=("title",))
    title = request.POST.get("title", "")
    if len(title) > 80 or any(ord(c) < 32 or ord(c) == 127 for c in title):
        raise ApiError(422, "invalid_title", "A title has at most 80 characters and no control characters.")
    try:
        piece = services.piece_create(owner=request.auth, uploads=files, title=title)
    except services.ReferencesRefused as refused:
        return refused_files_answer(request, refused.refused)
    created = owned(selectors.piece_list, owner=request.auth, pk=piece.pk)
    created.refused_uploads = piece.refused_uploads
    return Status(201, created)


@router.get("/jewellery/pieces", response=list[PieceOut], summary="List your pieces, newest first")
@paginate(Paginated)
def list_pieces(request):
    return selectors.piece_list(owner=request.auth)


@router.get("/jewellery/pieces/{piece_id}", response=PieceOut, summary="A piece with its analysis")
def get_piece(request, piece_id: int):
    return owned(selectors.piece_list, owner=request.auth, pk=piece_id, missing="No such piece.")


class ConfirmIn(StrictIn):
    attributes: Attributes
    title: Annotated[str, pydantic.StringConstraints(max_length=80, pattern=r"^[^\x00-\x1f\x7f]*$")] | None = None


@router.put(
    "/jewellery/pieces/{piece_id}/attributes",
    response=PieceOut,
    summary="Confirm or edit the attributes",
    description="Send the attributes as analysis gave them, or edited; one shot type per reference image.",
)
def confirm_attributes(request, piece_id: int, payload: ConfirmIn):
    piece = owned(selectors.piece_list, owner=request.auth, pk=piece_id, missing="No such piece.")
    services.piece_confirm(piece=piece, attributes=payload.attributes.model_dump(), title=payload.title)
    return owned(selectors.piece_list, owner=request.auth, pk=piece_id, missing="No such piece.")


@router.post(
    "/jewellery/pieces/{piece_id}/analysis",
    response={201: JobOut, 402: ErrorOut, 409: ErrorOut},
    summary="Run the analysis again",
)
def reanalyse(request, piece_id: int):
    piece = owned(selectors.piece_list, owner=request.auth, pk=piece_id, missing="No such piece.")
    job = services.piece_reanalyse(piece=piece)
    return Status(201, owned(job_list, owner=request.auth, pk=job.pk))


class BriefIn(Brief):
    model_config = pydantic.ConfigDict(extra="forbid", strict=True)


class ImagePlanOut(Schema):
    index: int
    metal: str | None
    seed: int
    prompt: str = Field(description="Exactly the text sent to the generation provider for this image.")


class PlanOut(Schema):
    template_version: str
    provider: str
    model: str
    credits: int = Field(description="What Generate reserves: spent when the images are made, returned otherwise.")
    images: list[ImagePlanOut]


@router.post(
    "/jewellery/pieces/{piece_id}/prompt",
    response=PlanOut,
    summary="The prompts a brief makes, exactly as they will be sent",
    description="Nothing is charged or stored. Seeds here are examples; a generation draws its own.",
)
def prompt_preview(request, piece_id: int, payload: BriefIn):
    piece = owned(selectors.piece_list, owner=request.auth, pk=piece_id, missing="No such piece.")
    plan = services.generation_plan(piece=piece, brief=payload)
    return {**plan, "credits": get_kind("jewellery.generate").cost_for(plan)}


class DesignCheckOut(Schema):
    id: int
    image_id: int = Field(description="The generated image (an asset of the job's outputs) this check is about.")
    score: float = Field(description="0..1: how well the image kept the references' design (1: nothing moved).")
    flagged: bool = Field(description="The design may have changed (the score is below 0.5).")
    changes: list[str] = Field(description='What seems to have changed, e.g. "a stone is missing near the top".')
    notice: str = Field(description='"The design may have changed: …" when flagged, else empty.')
    free_regeneration_open: bool = Field(description="It can be made again once without charge (POST …/regenerate).")
    regeneration_id: int | None = Field(description="The generation that made it again free, once made.")


class GenerationOut(Schema):
    id: int
    piece_id: int
    created_at: datetime
    job: JobOut = Field(description="Its params keep every prompt, seed, the template version, provider and model.")
    design_checks: list[DesignCheckOut] = Field(
        description="For an image service's output: each image compared with the references (design preservation)."
    )

    @staticmethod
    def resolve_design_checks(obj) -> list:
        return list(obj.design_checks.all())


@router.post(
    "/jewellery/pieces/{piece_id}/generations",
    response={201: GenerationOut, 402: ErrorOut, 409: ErrorOut},
    summary="Generate images (reserves credits)",
    description=(
        "Reserves one credit per image (variants × metal colours), then a jewellery.generate job makes them. "
        "Send an `Idempotency-Key` header so a retried request returns the first generation. Refusals: 422 "
        "`not_confirmed` (confirm the attributes first), `invalid_brief` or `preset_unavailable` (the configured image "
        "generator cannot make that preset: see `available` in /jewellery/vocabulary); 402 `insufficient_credits`; 409 "
        "`plan_limit`; 403 `restricted`. A generation that fails or is cancelled returns its credits."
    ),
)
def create_generation(
    request,
    piece_id: int,
    payload: BriefIn,
    idempotency_key: IdempotencyKey = None,
):
    piece = owned(selectors.piece_list, owner=request.auth, pk=piece_id, missing="No such piece.")
    generation = services.generation_create(piece=piece, brief=payload, idempotency_key=idempotency_key)
    created = owned(selectors.generations_owned, owner=request.auth, pk=generation.pk, missing="No such generation.")
    return Status(201, created)


@router.get("/jewellery/pieces/{piece_id}/generations", response=list[GenerationOut], summary="A piece's generations")
@paginate(Paginated)
def list_generations(request, piece_id: int):
    piece = owned(selectors.piece_list, owner=request.auth, pk=piece_id, missing="No such piece.")
    return selectors.generation_list(piece=piece)


@router.get("/jewellery/generations/{generation_id}", response=GenerationOut, summary="A generation and its images")
def get_generation(request, generation_id: int):
    return owned(selectors.generations_owned, owner=request.auth, pk=generation_id, missing="No such generation.")


@router.post(
    "/jewellery/design-checks/{check_id}/regenerate",
    response={201: GenerationOut, 409: ErrorOut},
    summary="Make a flagged image again, once, free of charge",
    description=(
        "For an image whose design check is flagged: the same prompt with a new seed, nothing reserved. Send an "
        "`Idempotency-Key` header so a retried request returns the same regeneration. Refusals: 409 "
        "`free_regeneration_used` (it was made again free already, or is itself a free regeneration); 422 "
        "`not_flagged`."
    ),
)
def regenerate_free(request, check_id: int, idempotency_key: IdempotencyKey = None):
    check = owned(selectors.design_checks_owned, owner=request.auth, pk=check_id, missing="No such design check.")
    generation = services.generation_regenerate_free(check=check, idempotency_key=idempotency_key)
    return Status(201, owned(selectors.generations_owned, owner=request.auth, pk=generation.pk))


@router.delete(
    "/jewellery/generations/{generation_id}",
    response={204: None},
    summary="Delete a generation and its images",
    description="One still running is cancelled first and its credits returned.",
)
def delete_generation(request, generation_id: int):
    generation = owned(selectors.generations_owned, owner=request.auth, pk=generation_id, missing="No such generation.")
    services.generation_delete(generation=generation, actor=request.auth)
    return Status(204, None)


@router.delete(
    "/jewellery/pieces/{piece_id}",
    response={204: None},
    summary="Delete a piece and everything made from it",
    description=(
        "Removes the references, the analysis, every generation and its images, from the database and from "
        "storage. Work still running is cancelled and its credits returned; a provider answer arriving later is "
        "ignored."
    ),
)
def delete_piece(request, piece_id: int):
    piece = owned(selectors.piece_list, owner=request.auth, pk=piece_id, missing="No such piece.")
    services.piece_delete(piece=piece, actor=request.auth)
    return Status(204, None)


# --- style kits and batches: one look for a catalogue


class KitIn(StrictIn):
    name: str = Field(min_length=1, max_length=60, description="Saving under an existing name replaces that kit.")
    brief: BriefIn


class KitOut(Schema):
    id: int
    name: str
    brief: Brief
    created_at: datetime
    updated_at: datetime


@router.get("/jewellery/kits", response=list[KitOut], summary="Your style kits")
@paginate(Paginated)
def list_kits(request):
    return selectors.style_kits(owner=request.auth)


@router.post(
    "/jewellery/kits",
    response={201: KitOut},
    summary="Save a style kit",
    description="A named brief (preset, aspect ratio, angle, shadow, variants, metals); the same name replaces it.",
)
def save_kit(request, payload: KitIn):
    return Status(201, services.style_kit_save(owner=request.auth, name=payload.name, brief=payload.brief))


@router.delete("/jewellery/kits/{kit_id}", response={204: None}, summary="Delete a style kit")
def delete_kit(request, kit_id: int):
    services.style_kit_delete(kit=owned(selectors.style_kits, owner=request.auth, pk=kit_id, missing="No such kit."))
    return Status(204, None)


class BatchIn(StrictIn):
    kit_id: RecordId = Field(description="The style kit every piece is generated with.")
    piece_ids: list[RecordId] = Field(min_length=1, max_length=services.MAX_BATCH_PIECES)


class BatchStartIn(BatchIn):
    credits: int = Field(ge=0, description="The total you accept, as the quote gave it; another total is refused.")


class QuoteLineOut(Schema):
    piece_id: int
    images: int
    credits: int


class QuoteOut(Schema):
    pieces: list[QuoteLineOut]
    images: int
    credits: int = Field(description="The total to confirm: send it back as `credits` to start the batch.")
    balance: int


class BatchPieceOut(Schema):
    piece_id: int
    title: str
    state: str = Field(
        description="`waiting` (for a free slot), `skipped` (see `note`), or the generation job's state."
    )
    note: str
    generation_id: int | None
    images: list[AssetOut] = Field(description="The images made so far, each with its download link.")


class BatchOut(Schema):
    id: int
    kit_name: str
    brief: Brief
    credits: int
    created_at: datetime
    pieces: list[BatchPieceOut]

    @staticmethod
    def resolve_pieces(obj) -> list[dict]:
        return selectors.batch_progress(obj)


def _kit_brief(request, kit_id: int) -> Brief:
    return services.style_kit_brief(owned(selectors.style_kits, owner=request.auth, pk=kit_id, missing="No such kit."))


@router.post(
    "/jewellery/batches/quote",
    response=QuoteOut,
    summary="What a batch would make and cost",
    description="Nothing is charged or started. Every piece must have confirmed attributes (else 422 `not_confirmed`).",
)
def quote_batch(request, payload: BatchIn):
    pieces = services.batch_pieces(owner=request.auth, piece_ids=payload.piece_ids)
    return services.batch_quote(owner=request.auth, pieces=pieces, brief=_kit_brief(request, payload.kit_id))


@router.post(
    "/jewellery/batches",
    response={201: BatchOut, 402: ErrorOut, 409: ErrorOut},
    summary="Generate many pieces with one style kit, after one confirmed total",
    description=(
        "Send the quote's `credits` back: a different total is refused with 409 `price_changed`, a balance below it "
        "with 402 `insufficient_credits`, and nothing starts. Generations start as the plan's concurrency allows; "
        "poll GET /jewellery/batches/{id}. Send an `Idempotency-Key` so a retry returns the first batch."
    ),
)
def start_batch(request, payload: BatchStartIn, idempotency_key: IdempotencyKey = None):
    pieces = services.batch_pieces(owner=request.auth, piece_ids=payload.piece_ids)
    kit = owned(selectors.style_kits, owner=request.auth, pk=payload.kit_id, missing="No such kit.")
    batch = services.batch_create(
        owner=request.auth,
        pieces=pieces,
        brief=services.style_kit_brief(kit),
        confirmed_credits=payload.credits,
        kit_name=kit.name,
        idempotency_key=idempotency_key,
    )
    return Status(201, batch)


@router.get("/jewellery/batches/{batch_id}", response=BatchOut, summary="A batch and where each piece stands")
def get_batch(request, batch_id: int):
    return owned(selectors.batches, owner=request.auth, pk=batch_id, missing="No such batch.")
