"""Calibration and *How did it burn?*: material test cards, readings of photos of them burned, the calibration
profiles made from those readings (and checked with a verify card), photos of finished pieces measured against
their version, and the guidance other makers' calibrations add up to.

A script calibrates like this: POST /engrave/cards and poll GET /engrave/cards/{id} until its files are made; burn
the G-code, photograph the card and POST the photo to /engrave/cards/{id}/readings; poll GET /engrave/readings/{id}
until it succeeded, then POST /engrave/calibrations with the reading. Artwork settings use the matching profile
while `use_calibration` is on. A verify card (POST /engrave/cards with `calibration_profile`) read the same way and
sent to POST /engrave/calibrations/{id}/checks says how much tone error the profile leaves.
"""

# No `from __future__ import annotations` here: @paginate resolves the list operations' signatures in this module.
from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from intaglio.api.errors import ApiError, ErrorOut
from intaglio.api.pagination import Paginated
from intaglio.api.routers.engrave import JobStatusOut, LaserKindName, MaterialName
from intaglio.api.routers.jobs import AssetOut
from intaglio.api.routers.uploads import _request_files, _upload_body
from intaglio.api.schemas import IdempotencyKey, StrictIn
from intaglio.assets.services import UploadRefused
from intaglio.core.access import NotOwned, owned
from intaglio.engrave import selectors, services
from intaglio.engrave.params import MachineSpec
from intaglio.feedback import selectors as feedback_selectors
from intaglio.feedback import services as feedback_services
from intaglio.imaging.calibration import CARD_MODES
from intaglio.jobs.models import JobState

router = Router(tags=["calibration"])

CardModeName = Literal[tuple(CARD_MODES)]
IDEMPOTENCY = (
    "Send an `Idempotency-Key` header to make retries safe: the same key returns what the first request made (keys "
    "are per account and shared with every creating operation: use a fresh one each time)."
)


def _found(obj, missing: str):
    """An owner-scoped selector's answer, or the 404 every other account's (or an unknown) id gets."""
    if obj is None:
        raise NotOwned(missing)
    return obj


def _one_photo(request):
    """The one `files` part of a multipart photo upload, refused like any upload otherwise."""
    files = _request_files(request)
    if len(files) > 1:
        raise UploadRefused("too_many_files", f"Send one photo at a time; you sent {len(files)}.")
    return files[0]


def _photo_body(description: str) -> dict:
    body = _upload_body()
    files = body["content"]["multipart/form-data"]["schema"]["properties"]["files"]
    files["maxItems"] = 1
    files["description"] = description
    return body


# -------------------------------------------------------------------------------------------------------- cards


class BestCellOut(Schema):
    power_pct: float
    speed_mm_min: float


class ReadingResultOut(Schema):
    """What `intaglio calibrate read PHOTO --card card.json --json` prints for the same photo and card."""

    card_id: str = Field(description="The card's id, 8 hex digits, as read from its markers.")
    registration_rms_px: float = Field(description="RMS misfit of the card's corners in the photo, in card pixels.")
    mark_diameter_mm: float = Field(description="The width of a burned stroke that best explains the wedge.")
    tone_response: list[tuple[float, float]] = Field(description="[wedge target, measured coverage] for each step.")
    best_cell: BestCellOut | None = Field(description="The power × speed grid cell to use.")
    residual: float = Field(description="RMS misfit of the stroke model over the wedge, in coverage units.")
    mark_darkness: float
    grid_darkness: list[float] = Field(description="How dark each grid cell burned, in the card's order.")
    wedge_area: list[float] = Field(description="The marked area of each wedge step at the fitted mark width.")
    blur_mm: float
    tilt_deg: float
    corners: int = Field(description="How many board corners were found.")
    lighting_span: float = Field(description="How uneven the light was over the card (0: even).")
    tone: list[tuple[float, float]] = Field(description="[marked area, darkness]: the measured surface.")
    tone_error: float = Field(description="The largest gap between a wedge target and its measured coverage, 0–1.")


class ReadingOut(Schema):
    id: int = Field(description="The engrave.card_read job's id.")
    card: int | None = Field(description="The card it read (GET /engrave/cards/{id}).")
    state: JobState = Field(description="queued → running → succeeded or failed.")
    progress: int
    error_message: str = Field(description="Why the photo could not be read (no card, blurred, …); empty otherwise.")
    photo: AssetOut | None = Field(description="The photo, kept as private feedback (14 days unless you allow more).")
    reading: ReadingResultOut | None = Field(description="Once the job succeeded: what the card measured.")
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_card(obj) -> int | None:
        card = selectors.reading_card(obj)
        return card.pk if card is not None else None

    @staticmethod
    def resolve_photo(obj):
        return next((asset for asset in obj.inputs.all() if asset.role == ""), None)

    @staticmethod
    def resolve_reading(obj) -> dict | None:
        return obj.result if obj.state == JobState.SUCCEEDED and obj.result else None


class CardOut(Schema):
    id: int = Field(description="The engrave.card job's id (GET /jobs/{id} shows it too).")
    state: JobState = Field(description="queued → running → succeeded, failed or cancelled.")
    progress: int = Field(description="0–100.")
    error_message: str = Field(description="Why the card could not be made, when it could not; empty otherwise.")
    credits_reserved: int
    settings: dict[str, Any] = Field(
        description="What the card was made for: material, machine or machine_spec, mode, line_interval_mm, "
        "card_id, and for a verify card the `calibration` it was prepared with."
    )
    calibration_profile: int | None = Field(description="The calibration a verify card checks; null otherwise.")
    files: list[AssetOut] = Field(
        description="Once the job succeeded: `png` (1-bit, with its DPI), `gcode`, `svg` and `card-json` (the "
        "layout a photo is read against). Empty until then."
    )
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_settings(obj) -> dict:
        return obj.params

    @staticmethod
    def resolve_calibration_profile(obj) -> int | None:
        return (obj.params.get("calibration") or {}).get("profile")

    @staticmethod
    def resolve_files(obj) -> list:
        return sorted(obj.outputs.all(), key=lambda asset: asset.pk)


class CardDetailOut(CardOut):
    readings: list[ReadingOut] = Field(description="The readings of photos of this card, newest first.")

    @staticmethod
    def resolve_readings(obj) -> list:
        return list(selectors.card_readings(owner=obj.owner_id, card=obj).prefetch_related("inputs"))


class CardIn(StrictIn):
    material: MaterialName | None = Field(
        None, description="A material name from GET /engrave/library; a verify card takes its calibration's."
    )
    machine: str | None = Field(None, max_length=40, description="A machine name from GET /engrave/library.")
    machine_profile: int | None = Field(None, ge=1, description="Or the id of one of your machines.")
    machine_spec: MachineSpec | None = Field(None, description="Or a machine described in full.")
    mode: CardModeName = Field("floyd-steinberg", description="The dithering mode the wedge is prepared in.")
    line_interval_mm: float | None = Field(
        None, ge=0.01, le=0.5, description="Default: the coarser of the material's and the machine's."
    )
    calibration_profile: int | None = Field(
        None,
        ge=1,
        description="One of your calibrations: makes a verify card with its material, mode and line interval, "
        "prepared with its measured surface (name the same machine).",
    )


@router.post(
    "/engrave/cards",
    response={201: CardOut, 402: ErrorOut, 409: ErrorOut},
    summary="Make a material test card (its PNG, G-code, SVG and card.json)",
    description=(
        "Queues an engrave.card job for a material, a machine (`machine`, `machine_profile` or `machine_spec`), a "
        "mode and a line interval: a ChArUco-framed card with a tone wedge and a power × speed grid (about "
        "109 × 109 mm). Poll GET /engrave/cards/{id} until `files` are there. With `calibration_profile` it is a "
        f"verify card for that calibration. {IDEMPOTENCY} Refusals: 422 `validation_error` or `invalid_settings` "
        "(e.g. the card does not fit the machine); 404 `invalid_settings` for a calibration that is not yours; "
        "402 `insufficient_credits`; 409 `plan_limit`."
    ),
)
def create_card(request, payload: CardIn, idempotency_key: IdempotencyKey = None):
    job = services.card_create(
        owner=request.auth,
        values=payload.model_dump(mode="json", exclude_none=True),
        idempotency_key=idempotency_key,
    )
    if job.kind != "engrave.card":
        raise ApiError(409, "idempotency_key_reused", "That Idempotency-Key was already used for something else.")
    return Status(201, job)


@router.get(
    "/engrave/cards",
    response=list[CardOut],
    summary="List your test cards, newest first",
    description="GET /engrave/cards/{id} for one card with the readings of its photos.",
)
@paginate(Paginated)
def list_cards(request):
    return selectors.card_jobs(owner=request.auth)


@router.get(
    "/engrave/cards/{card_id}",
    response=CardDetailOut,
    summary="One test card: its files and the readings of its photos",
    description="Another account's card, or an unknown id, answers 404.",
)
def get_card(request, card_id: int):
    return owned(selectors.card_jobs, owner=request.auth, pk=card_id, missing="No such test card.")


@router.post(
    "/engrave/cards/{card_id}/readings",
    response={202: ReadingOut, 402: ErrorOut, 409: ErrorOut, 413: ErrorOut, 415: ErrorOut},
    openapi_extra={"requestBody": _photo_body("One photo of the burned card, straight on or at an angle.")},
    summary="Read a photo of the burned card",
    description=(
        "Send the photo as the `multipart/form-data` part `files`. It is checked and cleaned like any upload and "
        "kept as private feedback; an engrave.card_read job reads it against the card's files. Poll "
        "GET /engrave/readings/{id}: a photo that cannot be trusted (no card, blurred, clipped, too oblique, "
        "another card) fails with the reason in `error_message`. Refusals: 404 `card_not_ready` (the card's "
        "files are not made yet); the upload's refusals (413, 415, 422 as for POST /uploads); 402, 409."
    ),
)
def create_reading(request, card_id: int):
    card = owned(selectors.card_jobs, owner=request.auth, pk=card_id, missing="No such test card.")
    job = feedback_services.card_photo_read(owner=request.auth, card=card, upload=_one_photo(request))
    return Status(202, job)


@router.get(
    "/engrave/readings/{reading_id}",
    response=ReadingOut,
    summary="One reading: its state, and what the card measured or why the photo was refused",
    description="Poll while `state` is queued or running. Another account's reading answers 404.",
)
def get_reading(request, reading_id: int):
    return _found(selectors.card_reading_get(owner=request.auth, job_id=reading_id), "No such reading.")


# ------------------------------------------------------------------------------------------------- calibrations


class GridCellOut(Schema):
    power_pct: float
    speed_mm_min: float
    darkness: float = Field(description="How dark the cell burned, 0–1.")


class CalibrationOut(Schema):
    id: int
    source: Literal["card", "shared"] = Field(
        description='"card": read from your test card; "shared": started from other makers\' measurements.'
    )
    material: str
    machine: str = Field(description='A library machine\'s name, or "mine:<id>" for one of your machines.')
    machine_label: str
    machine_kind: str
    mode: str
    line_interval_mm: float
    mark_diameter_mm: float = Field(description="The width of a burned stroke, as measured.")
    tone: list[tuple[float, float]] = Field(description="[marked area, darkness]: the measured surface.")
    tone_response: list[tuple[float, float]] = Field(description="[wedge target, measured coverage] as read.")
    grid: list[GridCellOut] = Field(description="The power × speed grid as read.")
    power_pct: float | None = Field(description="The grid cell to use.")
    speed_mm_min: float | None
    residual: float
    registration_rms_px: float
    reading: int | None = Field(description="The reading it was made from (null once that job was deleted).")
    verify_error: float | None = Field(
        description="The largest tone error a verify card made with it showed (0–1 of the range); null until checked."
    )
    verified_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_reading(obj) -> int | None:
        return obj.read_job_id


class ReadingRef(StrictIn):
    reading: int = Field(ge=1, description="A succeeded reading (GET /engrave/readings/{id}).")


def owned_calibration(request, calibration_id: int):
    return owned(selectors.calibration_profiles, owner=request.auth, pk=calibration_id, missing="No such calibration.")


@router.post(
    "/engrave/calibrations",
    response={201: CalibrationOut},
    summary="Make a calibration from a card's reading",
    description=(
        "Makes your calibration for the card's material, machine, mode and line interval, or replaces the one you "
        "had for them. Artwork settings with `use_calibration` (the default) use it from then on. Refusals: 404 "
        "`reading_not_ready` (no such reading of yours, or it has not succeeded)."
    ),
)
def create_calibration(request, payload: ReadingRef):
    reading = selectors.card_reading_get(owner=request.auth, job_id=payload.reading)
    return Status(201, services.calibration_profile_save(owner=request.auth, read_job=reading))


@router.get(
    "/engrave/calibrations",
    response=list[CalibrationOut],
    summary="List your calibrations",
    description="One per material, machine, mode and line interval, ordered by them.",
)
@paginate(Paginated)
def list_calibrations(request):
    return selectors.calibration_profiles(owner=request.auth)


@router.get(
    "/engrave/calibrations/{calibration_id}",
    response=CalibrationOut,
    summary="One of your calibrations",
    description="Another account's calibration, or one that was deleted, answers 404.",
)
def get_calibration(request, calibration_id: int):
    return owned_calibration(request, calibration_id)


@router.delete(
    "/engrave/calibrations/{calibration_id}",
    response={204: None},
    summary="Delete a calibration",
    description="Versions already made with it keep the numbers they were made with.",
)
def delete_calibration(request, calibration_id: int):
    services.calibration_profile_delete(profile=owned_calibration(request, calibration_id))
    return Status(204, None)


@router.post(
    "/engrave/calibrations/{calibration_id}/checks",
    response=CalibrationOut,
    summary="Check a calibration with the reading of its verify card",
    description=(
        "Records the largest tone error the verify card (POST /engrave/cards with `calibration_profile`) showed as "
        "`verify_error`, with `verified_at`. Refusals: 404 `reading_not_ready`; 422 `not_a_verify_card` (the "
        "reading is of a card not made with this calibration)."
    ),
)
def check_calibration(request, calibration_id: int, payload: ReadingRef):
    return services.calibration_profile_verify(
        owner=request.auth,
        profile=owned_calibration(request, calibration_id),
        read_job=selectors.card_reading_get(owner=request.auth, job_id=payload.reading),
    )


# ------------------------------------------------------------------------------------------ How did it burn?


class BurnReportOut(Schema):
    id: int
    artwork_id: int
    version_number: int = Field(description="The version the piece was burned from.")
    job: JobStatusOut | None = Field(description="The feedback.burn_photo job measuring the photo.")
    photo: AssetOut = Field(description="The photo, kept as private feedback (14 days unless you allow more).")
    metrics: dict[str, float] = Field(
        description="Once measured: registration_rms_px, tone_error_shadows/midtones/highlights (ΔL*, photo − "
        "simulated), rmse_lstar, contrast_achieved, sharpness, mark_diameter_mm, mark_gain_mm, … Empty until then."
    )
    advice: list[str] = Field(description="What to change, in plain words.")
    files: list[AssetOut] = Field(
        description="Once measured: `side-by-side` (photo and simulated burn, aligned) and `difference` (PNG)."
    )
    created_at: datetime

    @staticmethod
    def resolve_artwork_id(obj) -> int:
        return obj.version.artwork_id

    @staticmethod
    def resolve_version_number(obj) -> int:
        return obj.version.number

    @staticmethod
    def resolve_files(obj) -> list:
        return sorted(obj.job.outputs.all(), key=lambda asset: asset.pk) if obj.job is not None else []


def owned_burn_report(request, report_id: int):
    return owned(feedback_selectors.burn_reports, owner=request.auth, pk=report_id, missing="No such burn report.")


@router.post(
    "/engrave/artworks/{artwork_id}/versions/{number}/burn-reports",
    response={202: BurnReportOut, 402: ErrorOut, 409: ErrorOut, 413: ErrorOut, 415: ErrorOut},
    openapi_extra={"requestBody": _photo_body("One photo of the finished piece burned from this version.")},
    summary="How did it burn? Measure a photo of the finished piece",
    description=(
        "Send the photo as the `multipart/form-data` part `files`. It is kept as private feedback and a job aligns "
        "it to the version's simulated burn and measures tone, contrast, sharpness and mark width; poll GET "
        "/engrave/burn-reports/{id}. A photo of something else fails the job with the reason. Refusals: 409 "
        "`version_not_ready` (the version's files are not made, or were deleted); the upload's refusals."
    ),
)
def create_burn_report(request, artwork_id: int, number: int):
    version = _found(
        selectors.artwork_version_get(owner=request.auth, artwork_id=artwork_id, number=number), "No such version."
    )
    report = feedback_services.burn_photo_report(owner=request.auth, version=version, upload=_one_photo(request))
    return Status(202, owned_burn_report(request, report.pk))


@router.get(
    "/engrave/artworks/{artwork_id}/burn-reports",
    response=list[BurnReportOut],
    summary="The burn reports on an artwork's versions, newest first",
    description="Another account's artwork answers 404.",
)
@paginate(Paginated)
def list_burn_reports(request, artwork_id: int):
    artwork = owned(selectors.artwork_list, owner=request.auth, pk=artwork_id, missing="No such artwork.")
    return feedback_selectors.artwork_burn_reports(owner=request.auth, artwork_id=artwork.pk)


@router.get(
    "/engrave/burn-reports/{report_id}",
    response=BurnReportOut,
    summary="One burn report: its metrics, advice and pictures, or why it failed",
    description="Poll while `job.state` is queued or running; a failed job says why in `job.error_message`.",
)
def get_burn_report(request, report_id: int):
    return owned_burn_report(request, report_id)


@router.delete(
    "/engrave/burn-reports/{report_id}",
    response={204: None},
    summary="Delete a burn report with its photo and pictures",
    description="At once, without waiting for the photo's expiry.",
)
def delete_burn_report(request, report_id: int):
    feedback_services.burn_report_delete(report=owned_burn_report(request, report_id))
    return Status(204, None)


# ---------------------------------------------------------------------------------------------- shared guidance


class GuidanceOut(Schema):
    material: str
    machine_kind: str
    mode: str
    accounts: int = Field(description="How many makers' calibrations it pools (one vote each, at least 5).")
    mark_diameter_mm: float = Field(description="The median mark width.")
    tone: list[tuple[float, float]] = Field(description="[marked area, darkness], medians.")
    power_pct: float | None
    speed_mm_min: float | None


class GuidanceFilter(Schema):
    material: MaterialName = Field(description="A material name from GET /engrave/library.")
    machine_kind: LaserKindName | None = None
    mode: CardModeName | None = None


class GuidanceAdoptIn(StrictIn):
    material: MaterialName
    machine: str | None = Field(None, max_length=40, description="A machine name from GET /engrave/library.")
    machine_profile: int | None = Field(None, ge=1, description="Or the id of one of your machines.")
    mode: CardModeName = "floyd-steinberg"
    line_interval_mm: Annotated[float, Field(ge=0.01, le=0.5)] | None = Field(
        None, description="Default: the coarser of the material's and the machine's."
    )


@router.get(
    "/engrave/guidance",
    response=list[GuidanceOut],
    summary="What other makers measured for a material",
    description=(
        "Pooled from the calibrations of makers who allow their engraving results to be used (read at the time "
        "of asking), per machine kind and mode, and only where at least 5 accounts contributed: an empty list "
        "otherwise."
    ),
)
def list_guidance(request, filters: Query[GuidanceFilter]):
    return feedback_selectors.shared_guidance(
        material=filters.material, machine_kind=filters.machine_kind, mode=filters.mode
    )


@router.post(
    "/engrave/guidance/adopt",
    response={201: CalibrationOut},
    summary="Start your calibration from the shared guidance",
    description=(
        "Makes a calibration (`source`: shared) for your machine from the guidance for the material, the "
        "machine's kind and the mode, until your own card is read; a calibration you already have for that setup "
        "is returned unchanged. Refusals: 404 `no_guidance` (fewer than 5 makers measured it); 422 "
        "`invalid_settings` (name exactly one of `machine` and `machine_profile`, one of yours)."
    ),
)
def adopt_guidance(request, payload: GuidanceAdoptIn):
    profile = feedback_services.guidance_start(owner=request.auth, **payload.model_dump())
    return Status(201, profile)
