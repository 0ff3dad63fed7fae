"""The engrave studio: the library of materials and machines, artworks and their versions, the live preview, the
style gallery, and your own machines and material presets.

A desktop laser program drives it like this: upload a photo (POST /uploads), create an artwork from it, call
POST /engrave/previews while the settings change, then POST /engrave/artworks/{id}/versions to make the files and
poll GET /jobs/{id} (or the artwork) until they are ready; each file has a download URL.
"""

# No `from __future__ import annotations` here: @paginate resolves the list operations' signatures in this module.
import base64
import time
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from intaglio.api.errors import ErrorOut
from intaglio.api.pagination import Paginated
from intaglio.api.routers.jobs import AssetOut, JobOut
from intaglio.api.schemas import IdempotencyKey, StrictIn
from intaglio.core.access import owned
from intaglio.engrave import selectors, services
from intaglio.engrave.models import LaserKind, MachineProfile, MaterialPreset
from intaglio.engrave.params import (
    LASER_SOURCE_LABELS,
    SCANS,
    STYLES,
    VISIBLE_TEXT,
    AdjustmentParams,
    ArtworkSettings,
    MachineSpec,
    burn_time_json,
)
from intaglio.imaging.artwork import MODES, machines, materials
from intaglio.jobs.models import JobState
from intaglio.jobs.selectors import job_list

router = Router(tags=["engrave"])

PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"
NOTES_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # line breaks and tabs allowed


# ------------------------------------------------------------------------------------------------------ library


class SuggestionOut(Schema):
    power_pct: float
    speed_mm_min: float
    passes: int


class MaterialOut(Schema):
    name: str
    label: str
    category: str
    polarity: str = Field(description='"dark": marks are darker than the surface; "light": lighter (inverted for you).')
    unburned_rgb: tuple[int, int, int]
    burned_rgb: tuple[int, int, int]
    line_interval_mm: float
    spread_mm: float = Field(description="How much wider than the laser spot a mark comes out (dot gain).")
    notes: str
    suggestions: dict[str, SuggestionOut] = Field(description="Suggested settings per machine kind.")
    default_adjustments: dict[str, float | bool]


class MachineOut(Schema):
    name: str
    label: str
    kind: str
    power_w: float
    spot_mm: float
    line_interval_mm: float
    max_feed_mm_min: float
    work_area_mm: tuple[float, float]
    s_max: int
    min_power_pct: float


class LibraryOut(Schema):
    materials: list[MaterialOut]
    machines: list[MachineOut]
    modes: list[str]


@router.get(
    "/engrave/library",
    response=LibraryOut,
    summary="Materials, machines and modes for laser artwork",
    description="The names engrave.prepare jobs take, with spot sizes, work areas and suggested settings.",
)
def library(request):
    return {"materials": list(materials().values()), "machines": list(machines().values()), "modes": list(MODES)}


# ----------------------------------------------------------------------------------------------------- settings


def raw_settings(settings: ArtworkSettings | None) -> dict | None:
    """What the client sent, for the service to resolve (machine_profile → a frozen machine_spec) and keep."""
    return None if settings is None else settings.model_dump(mode="json", exclude_unset=True)


# ----------------------------------------------------------------------------------------------------- artworks


class JobStatusOut(Schema):
    id: int = Field(description="GET /jobs/{id} for everything about it.")
    kind: str
    state: JobState = Field(description="queued → running → succeeded, failed or cancelled.")
    progress: int = Field(description="0–100.")
    error_message: str = Field(description="Why the job failed, when it did; empty otherwise.")
    credits_reserved: int = Field(description="Credits held for the job: spent if it succeeds, returned otherwise.")


LaserSource = Literal[tuple(LASER_SOURCE_LABELS)]
SOURCE_HELP = (
    '"you" (set in the settings), "calibration" (your calibration profile), "suggestion" (the material\'s '
    'suggestion scaled to the machine) or "speed" (the run-up to the speed on the machine).'
)


class SourcedFloat(Schema):
    value: float
    source: LaserSource = Field(description=SOURCE_HELP)
    label: str = Field(description='Where the value came from, for people, e.g. "your calibration profile".')


class SourcedInt(SourcedFloat):
    value: int


class SourcedBool(SourcedFloat):
    value: bool


class SourcedScan(SourcedFloat):
    value: Literal[SCANS]


class LaserOut(Schema):
    """The laser settings the files get, each with where its value came from."""

    power_pct: SourcedFloat
    speed_mm_min: SourcedFloat
    passes: SourcedInt
    overscan_mm: SourcedFloat
    air_assist: SourcedBool
    scan: SourcedScan


class BurnTimeOut(Schema):
    seconds: float = Field(description="The whole job: burning, run-ups and travel, with acceleration.")
    text: str = Field(description='For people: "45 s", "12 min 05 s", "2 h 03 min".')
    burn_s: float = Field(description="Time at feed: burned stretches, their overscan and the gaps crossed.")
    travel_s: float = Field(description="Rapid moves between stretches, rows and passes, and to and from home.")
    rows: int = Field(description="Rows with something to burn, times passes.")


class RefusalOut(Schema):
    code: str = Field(
        description="`does_not_fit`, `unusable_combination`, `laser_out_of_range` or `outside_work_area`."
    )
    message: str


def _prepared_result(version, key: str):
    job = version.job
    return (job.result or {}).get(key) if job is not None else None


class VersionOut(Schema):
    id: int
    number: int = Field(description="1, 2, 3… in the order the versions were made.")
    settings: dict[str, Any] = Field(
        description="The settings its files were made with; a machine profile appears as its frozen `machine_spec`."
    )
    created_at: datetime
    job: JobStatusOut | None = Field(description="The engrave.prepare job making the files; null once deleted.")
    files: list[AssetOut] = Field(
        description="Once the job succeeded: `png` (1-bit or grey, with its DPI), `gcode` (GRBL, with a settings "
        "header), `svg` (strokes for line art, filled outlines for hatch, the exact bitmap otherwise), `lbrn2` (a "
        "LightBurn project: the bitmap placed on the bed with the layer's power, speed, passes and interval) and "
        "`burn-preview` (the simulated burn). Empty until then."
    )
    laser: LaserOut | None = Field(
        description="Once the job succeeded: the laser settings written into the files (also in `settings.laser`)."
    )
    burn_time: BurnTimeOut | None = Field(
        description="Once the job succeeded: the estimated burn time of the G-code, from its real toolpath."
    )

    @staticmethod
    def resolve_files(obj) -> list:
        return list(selectors.version_files(obj).values())

    @staticmethod
    def resolve_laser(obj) -> dict | None:
        return _prepared_result(obj, "laser")

    @staticmethod
    def resolve_burn_time(obj) -> dict | None:
        return _prepared_result(obj, "burn_time")


class StylePictureOut(Schema):
    style: str = Field(description=f"One of: {', '.join(STYLES)}.")
    label: str = Field(description="The style's name as people know it.")
    file: AssetOut = Field(description="The style as a simulated burn on the material (JPEG).")


class StylesOut(Schema):
    job: JobStatusOut = Field(description="The engrave.styles job.")
    pictures: list[StylePictureOut] = Field(description="One per style once the job succeeded; empty until then.")


class ArtworkSummaryOut(Schema):
    id: int
    title: str
    source_id: int | None = Field(
        description="The uploaded photo it starts from; null once that photo was deleted (earlier files stay)."
    )
    settings: dict[str, Any] = Field(description="The settings last saved or prepared: the studio reopens on them.")
    created_at: datetime
    updated_at: datetime


class ArtworkOut(ArtworkSummaryOut):
    versions: list[VersionOut] = Field(description="Newest first.")
    styles: StylesOut | None = Field(description="The latest style gallery, if one was made.")

    @staticmethod
    def resolve_versions(obj) -> list:
        return list(obj.versions.all())

    @staticmethod
    def resolve_styles(obj) -> dict | None:
        if obj.styles_job is None:
            return None
        pictures = [
            {"style": style, "label": STYLES.get(style, style), "file": asset}
            for style, asset in selectors.style_pictures(obj.styles_job).items()
        ]
        return {"job": obj.styles_job, "pictures": pictures}


class ArtworkIn(StrictIn):
    source: int = Field(ge=1, description="The id of one of your uploaded photos (an input of its preview job).")
    title: str = Field(
        "", max_length=120, pattern=PLAIN_TEXT, description='Its name; "Artwork from photo <id>" if empty.'
    )
    settings: ArtworkSettings | None = Field(
        None, description="Where the studio starts; birch plywood on a 10 W diode, 100 mm wide, if omitted."
    )


class ArtworkPatch(StrictIn):
    title: str | None = Field(None, max_length=120, pattern=VISIBLE_TEXT, description="A new name.")
    settings: ArtworkSettings | None = Field(None, description="The settings to keep (replacing the saved ones).")


class VersionIn(StrictIn):
    settings: ArtworkSettings


class StylesIn(StrictIn):
    settings: ArtworkSettings | None = Field(None, description="The artwork's saved settings if omitted.")


def owned_artwork(request, artwork_id: int):
    return owned(selectors.artworks_with_versions, owner=request.auth, pk=artwork_id, missing="No such artwork.")


@router.post(
    "/engrave/artworks",
    response={201: ArtworkOut},
    summary="Create an artwork from an uploaded photo",
    description=(
        "Starts an artwork on one of your uploaded photos (`source`: the photo's asset id, from the upload's "
        "preview job `inputs`). Nothing is made yet and nothing is charged: preview with POST /engrave/previews, "
        "then make files with POST /engrave/artworks/{id}/versions. Refusals: 404 `invalid_source` (not one of "
        "your photos); 422 `validation_error` or `invalid_settings` (e.g. an unknown machine profile)."
    ),
)
def create_artwork(request, payload: ArtworkIn):
    artwork = services.artwork_create(
        owner=request.auth,
        source=selectors.source_photo_get(owner=request.auth, asset_id=payload.source),
        title=payload.title,
        settings=raw_settings(payload.settings),
    )
    return Status(201, owned_artwork(request, artwork.pk))


@router.get(
    "/engrave/artworks",
    response=list[ArtworkSummaryOut],
    summary="List your artworks, most recently changed first",
    description="GET /engrave/artworks/{id} for one artwork's versions, files and style gallery.",
)
@paginate(Paginated)
def list_artworks(request):
    return selectors.artwork_list(owner=request.auth)


@router.get(
    "/engrave/artworks/{artwork_id}",
    response=ArtworkOut,
    summary="One artwork: its settings, every version with its files, and the style gallery",
    description=(
        "Versions are newest first. A version's `files` appear once its job succeeded, each with a "
        "`download_url`; poll this (or GET /jobs/{id}) while `job.state` is queued or running."
    ),
)
def get_artwork(request, artwork_id: int):
    return owned_artwork(request, artwork_id)


@router.patch(
    "/engrave/artworks/{artwork_id}",
    response=ArtworkOut,
    summary="Rename an artwork or save its settings",
    description=(
        "Send `title`, `settings` or both. Saved settings are where the studio reopens; they make no files. "
        "Refusals: 422 `validation_error` or `invalid_settings`."
    ),
)
def update_artwork(request, artwork_id: int, payload: ArtworkPatch):
    artwork = owned_artwork(request, artwork_id)
    # The settings first: they are the part that can be refused, so a refusal changes nothing.
    if payload.settings is not None:
        services.artwork_save_settings(artwork=artwork, settings=raw_settings(payload.settings))
    if payload.title is not None:
        services.artwork_rename(artwork=artwork, title=payload.title)
    return owned_artwork(request, artwork_id)


@router.delete(
    "/engrave/artworks/{artwork_id}",
    response={204: None},
    summary="Delete an artwork and every version's files",
    description=(
        "Deletes the artwork, the files of all its versions and its style gallery (jobs in progress are cancelled "
        "and their credits returned). The photo stays while its upload (or another artwork) still uses it."
    ),
)
def delete_artwork(request, artwork_id: int):
    services.artwork_delete(artwork=owned_artwork(request, artwork_id), actor=request.auth)
    return Status(204, None)


@router.post(
    "/engrave/artworks/{artwork_id}/versions",
    response={201: VersionOut, 402: ErrorOut, 409: ErrorOut},
    summary="Make the laser files for these settings (a new version)",
    description=(
        "Queues an engrave.prepare job on the artwork's photo and records it as the artwork's next version; the "
        "settings also become the artwork's saved settings. `job.credits_reserved` says what it holds (see "
        "GET /jobs/kinds for the price beforehand): spent if the job succeeds, returned otherwise. Poll "
        "GET /engrave/artworks/{id} or GET /jobs/{job.id}. Send an `Idempotency-Key` header to make retries safe: "
        "the same key returns the version made the first time (keys are per account, shared with POST /jobs: use a "
        "fresh one for each version you mean to make). The version's settings get every laser value filled in "
        "(`settings.laser`), as the files have them. Refusals: 422 `validation_error`, `invalid_settings`, "
        "`does_not_fit` (larger than the machine's work area), `unusable_combination` (the machine's kind of laser "
        "cannot mark the material), `laser_out_of_range` (a laser value beyond the machine's limits) or "
        "`outside_work_area` (placed, with its overscan, past the work area's edge), each message naming the "
        "limit; 402 `insufficient_credits`; 409 `plan_limit` (too many jobs in progress) or `source_gone` (the "
        "photo was deleted)."
    ),
)
def create_version(
    request,
    artwork_id: int,
    payload: VersionIn,
    idempotency_key: IdempotencyKey = None,
):
    version = services.artwork_prepare(
        artwork=owned_artwork(request, artwork_id),
        settings=raw_settings(payload.settings),
        idempotency_key=idempotency_key,
    )
    return Status(201, version)


@router.post(
    "/engrave/artworks/{artwork_id}/styles",
    response={201: JobOut, 402: ErrorOut, 409: ErrorOut},
    summary="Render the style gallery (each creative style on the photo)",
    description=(
        f"Queues an engrave.styles job that renders each style ({', '.join(STYLES.values())}) as a simulated burn "
        "at the settings' material and size, drawn at preview size and free of charge (only versions cost "
        "credits); it replaces the artwork's previous gallery and its files. The body is optional (the saved "
        "settings are used). The pictures appear in GET /engrave/artworks/{id} `styles` once the job succeeded. "
        "Refusals as for versions."
    ),
)
def create_styles(request, artwork_id: int, payload: StylesIn | None = None):
    artwork = owned_artwork(request, artwork_id)
    job = services.artwork_styles(artwork=artwork, settings=raw_settings(payload and payload.settings))
    return Status(201, owned(job_list, owner=request.auth, pk=job.pk))


# ------------------------------------------------------------------------------------------------------ preview


PreviewPicture = Literal["original", "artwork", "burn"]


class PreviewIn(StrictIn):
    source: int = Field(ge=1, description="The id of one of your uploaded photos.")
    settings: ArtworkSettings
    pictures: list[PreviewPicture] = Field(
        default_factory=lambda: ["artwork", "burn"],
        description=(
            "Which pictures to send inline. The framed photo changes only with the framing: fetch it once from "
            "`original_url` (cacheable) rather than asking for `original` with every change."
        ),
    )
    burn_size: Literal["view", "full"] = Field(
        "view",
        description=f"`view`: the burn at most {services.LIVE_PREVIEW_VIEW_PX} px wide, area-averaged (a screen's "
        "fitted view, without moiré); `full`: dot for dot, for 1:1 views (several times larger).",
    )


class PreviewWarningOut(Schema):
    code: str = Field(
        description="`nothing_burns`, `everything_burns`, `upscaled` (the photo is enlarged more than "
        f"{services.UPSCALE_WARNING:g}× for the dots), `coarse_preview`, or what preparing would refuse: "
        "`does_not_fit` (the machine's work area), `unusable_combination` (the laser cannot mark the material), "
        "`laser_out_of_range` (a value beyond the machine's limits) or `outside_work_area` (the placement)."
    )
    message: str = Field(description="For people: what is wrong and what to change.")


class PreviewOut(Schema):
    width_px: int = Field(description="Width of the artwork the files will have, in laser dots.")
    height_px: int
    width_mm: float
    height_mm: float = Field(description="As framed: the given height, or the photo's aspect at `width_mm`.")
    dpi: float = Field(description="Dots per inch of the files (25.4 / line interval).")
    preview_dpi: float = Field(description="Dots per inch of these pictures: `dpi`, or less for a very large piece.")
    full_resolution: bool = Field(description="Whether the pictures show the artwork dot for dot.")
    warnings: list[PreviewWarningOut] = Field(
        description="Things that would waste a burn, to fix before preparing (preparing refuses `does_not_fit`, "
        "`unusable_combination`, `laser_out_of_range` and `outside_work_area`: see `refusal`)."
    )
    render_ms: float = Field(description="Server time spent rendering these settings (the first time they were seen).")
    cached: bool = Field(description="Whether this answer came from the preview cache (no render this time).")
    answer_ms: float = Field(description="Server time spent on this answer, cache or not.")
    original_url: str = Field(
        description="GET: the photo framed exactly as the artwork (JPEG); the same URL while the framing is the same."
    )
    original: str | None = Field(description="The framed photo as a `data:image/jpeg` URL, if asked for in `pictures`.")
    artwork: str | None = Field(
        description="What the laser gets (1-bit, or grey power): a `data:image/png` URL, if asked for in `pictures`."
    )
    burn: str | None = Field(
        description="The simulated burn on the material (`burn_size`): a `data:image/jpeg` URL, if asked for."
    )
    refusal: RefusalOut | None = Field(description="What preparing these settings would be refused with, if anything.")
    laser: LaserOut | None = Field(
        description="The laser settings the files would get, each with its source; null when the machine's kind of "
        "laser cannot mark the material."
    )
    burn_time: BurnTimeOut | None = Field(
        description="A quick estimate of the burn time before preparing (the real rows and speed, this preview's "
        "picture); null when there are no laser settings."
    )


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


PHOTO_MAX_AGE = 7 * 24 * 3600
# Four numbers, as photo_framing_query writes them.
CROP_PATTERN = r"^[0-9.e+-]+(,[0-9.e+-]+){3}$"


@router.post(
    "/engrave/previews",
    response=PreviewOut,
    summary="Live preview: the artwork these settings make, in one round trip",
    description=(
        "Renders the real artwork for the photo and settings (dot for dot up to 4 MP, coarser for a larger piece: "
        "see `full_resolution`) with the simulated burn, as data URLs, and warns about what would waste a burn. "
        "The framed photo has its own cacheable URL (`original_url`), so a setting change carries only the "
        "pictures asked for. Nothing is stored and nothing is charged; the same photo and settings answer from a "
        "short cache. A piece larger than the machine's work area, placed past its edge, with laser values beyond the "
        "machine's limits or on a material the machine cannot mark is still shown, with a warning and the `refusal` "
        "preparing would meet. The laser settings come with where each value came from, and a quick burn-time "
        "estimate. Refusals: 404 "
        "`invalid_source`; 422 `validation_error`, `invalid_settings` or `cannot_render`."
    ),
)
def create_preview(request, payload: PreviewIn):
    started = time.perf_counter()
    source = selectors.source_photo_get(owner=request.auth, asset_id=payload.source)
    preview = services.live_preview_render(owner=request.auth, source=source, settings=raw_settings(payload.settings))
    pictures = set(payload.pictures)
    burn = preview.burn_jpeg if payload.burn_size == "full" else preview.burn_view_jpeg
    width, height = preview.picture_px
    return {
        "width_px": preview.width_px,
        "height_px": preview.height_px,
        "width_mm": preview.width_mm,
        "height_mm": preview.height_mm,
        "dpi": preview.dpi,
        "preview_dpi": preview.preview_dpi,
        "full_resolution": preview.full_resolution,
        "warnings": [{"code": w.code, "message": w.message} for w in preview.warnings],
        "refusal": dict(zip(("code", "message"), preview.refusal, strict=True)) if preview.refusal else None,
        "laser": preview.laser,
        "burn_time": burn_time_json(preview.burn_time) if preview.burn_time else None,
        "render_ms": preview.render_ms,
        "cached": preview.cached,
        "answer_ms": (time.perf_counter() - started) * 1000,
        "original_url": "&".join(
            part
            for part in (
                f"{request.path}/photos/{source.pk}?width={width}&height={height}&fit={preview.fit}",
                services.photo_framing_query(preview.framing),
            )
            if part
        ),
        "original": data_url("image/jpeg", preview.original_jpeg) if "original" in pictures else None,
        "artwork": data_url("image/png", preview.artwork_png) if "artwork" in pictures else None,
        "burn": data_url("image/jpeg", burn) if "burn" in pictures else None,
    }


@router.get(
    "/engrave/previews/photos/{source_id}",
    response={200: None},
    summary="A photo framed as a live preview's artwork (JPEG)",
    description=(
        "The `original_url` of a preview: the photo cropped, letterboxed or stretched as the artwork, at the "
        "preview's pixel size, after the layout's crop, turn and mirror. Cacheable: the URL names the photo and the "
        "framing. Refusals: 404 `invalid_source`; "
        "422 `invalid_settings` (a framing no preview makes)."
    ),
)
def preview_photo(
    request,
    source_id: int,
    width: Annotated[int, Field(ge=1, le=8000)],
    height: Annotated[int, Field(ge=1, le=8000)],
    fit: Literal["crop", "fit", "stretch"],
    crop: Annotated[
        str, Field(description="x,y,w,h: fractions of the upright photo.", pattern=CROP_PATTERN, max_length=80)
    ]
    | None = None,
    rotate: Annotated[int, Field(ge=0, le=270, multiple_of=90, description="Degrees clockwise.")] = 0,
    mirror: bool = False,
):
    source = selectors.source_photo_get(owner=request.auth, asset_id=source_id)
    framing = services.photo_framing_read({"crop": crop, "rotate": str(rotate), "mirror": "1" if mirror else ""})
    response = HttpResponse(
        services.framed_source_photo(source=source, size=(width, height), fit=fit, framing=framing),
        content_type="image/jpeg",
    )
    response["Cache-Control"] = f"private, max-age={PHOTO_MAX_AGE}, immutable"
    return response


# ------------------------------------------------------------------------------------------ your own machines


def _spec_limits(name: str) -> list:
    """The engine's limits for a machine number (MachineSpec), so the API documents and checks the same ones."""
    return MachineSpec.model_fields[name].metadata


class MachineProfileOut(Schema):
    id: int
    name: str
    kind: LaserKind
    power_w: float
    spot_mm: float
    line_interval_mm: float
    max_feed_mm_min: float
    work_area_w_mm: float
    work_area_h_mm: float
    s_max: int
    min_power_pct: float
    created_at: datetime


LaserKindName = Literal[tuple(LaserKind.values)]


class MachineProfileIn(StrictIn):
    name: str = Field(max_length=60, pattern=VISIBLE_TEXT, description="Unique among your machines.")
    kind: LaserKindName
    power_w: Annotated[float, *_spec_limits("power_w")] = Field(description="Optical power, W.")
    spot_mm: Annotated[float, *_spec_limits("spot_mm")] = Field(description="Spot (dot) size, mm.")
    line_interval_mm: Annotated[float, *_spec_limits("line_interval_mm")] | None = Field(
        None, description="Distance between raster lines, mm; the spot size if omitted."
    )
    max_feed_mm_min: Annotated[float, *_spec_limits("max_feed_mm_min")] = Field(description="Fastest feed, mm/min.")
    # The bounds of MachineSpec's work-area rule.
    work_area_w_mm: float = Field(gt=0, le=5000, description="Work area width, mm.")
    work_area_h_mm: float = Field(gt=0, le=5000, description="Work area height, mm.")
    s_max: Annotated[int, *_spec_limits("s_max")] = Field(1000, description="The S value of full power in G-code.")
    min_power_pct: Annotated[float, *_spec_limits("min_power_pct")] = Field(
        0, description="The lowest power that still marks, %."
    )


class MachineProfilePatch(StrictIn):
    """Only the fields sent change."""

    name: str | None = Field(None, max_length=60, pattern=VISIBLE_TEXT)
    kind: LaserKindName | None = None
    power_w: Annotated[float, *_spec_limits("power_w")] | None = None
    spot_mm: Annotated[float, *_spec_limits("spot_mm")] | None = None
    line_interval_mm: Annotated[float, *_spec_limits("line_interval_mm")] | None = None
    max_feed_mm_min: Annotated[float, *_spec_limits("max_feed_mm_min")] | None = None
    work_area_w_mm: float | None = Field(None, gt=0, le=5000)
    work_area_h_mm: float | None = Field(None, gt=0, le=5000)
    s_max: Annotated[int, *_spec_limits("s_max")] | None = None
    min_power_pct: Annotated[float, *_spec_limits("min_power_pct")] | None = None


# The library's machines are /engrave/library; yours live under /engrave/machines/mine so a library machine's
# name can never be mistaken for one of your ids.
MACHINE_REFUSALS = (
    "Refusals: 422 `validation_error` or `invalid_machine` (a number the engine cannot use, e.g. a default line "
    "interval from a spot larger than 0.5 mm); 409 `duplicate_name`."
)


@router.get(
    "/engrave/machines/mine",
    response=list[MachineProfileOut],
    summary="List your own machines",
    description=(
        "Lasers you described yourself; name one in settings with `machine_profile: <id>`. They live under "
        "/engrave/machines/mine, apart from the library's machines (GET /engrave/library), which are named."
    ),
)
@paginate(Paginated)
def list_machines(request):
    return selectors.machine_profiles(owner=request.auth)


@router.post(
    "/engrave/machines/mine",
    response={201: MachineProfileOut, 409: ErrorOut},
    summary="Describe one of your own machines",
    description=f"The numbers are checked as the engine will use them. {MACHINE_REFUSALS}",
)
def create_machine(request, payload: MachineProfileIn):
    profile = services.machine_profile_save(owner=request.auth, values=payload.model_dump(mode="json"))
    return Status(201, profile)


@router.get(
    "/engrave/machines/mine/{profile_id}",
    response=MachineProfileOut,
    summary="One of your machines",
    description="Another account's machine, or one that was deleted, answers 404.",
)
def get_machine(request, profile_id: int):
    return owned(MachineProfile, owner=request.auth, pk=profile_id, missing="No such machine.")


@router.patch(
    "/engrave/machines/mine/{profile_id}",
    response={200: MachineProfileOut, 409: ErrorOut},
    summary="Change one of your machines",
    description=(
        "Only the fields sent change. Versions already made with it keep the numbers they were made with. "
        f"{MACHINE_REFUSALS}"
    ),
)
def update_machine(request, profile_id: int, payload: MachineProfilePatch):
    profile = owned(MachineProfile, owner=request.auth, pk=profile_id, missing="No such machine.")
    current = {field: getattr(profile, field) for field in services.MACHINE_FIELDS}
    values = current | payload.model_dump(mode="json", exclude_none=True)
    return services.machine_profile_save(owner=request.auth, profile=profile, values=values)


@router.delete(
    "/engrave/machines/mine/{profile_id}",
    response={204: None},
    summary="Delete one of your machines",
    description="Versions made with it keep its numbers and files.",
)
def delete_machine(request, profile_id: int):
    services.machine_profile_delete(
        profile=owned(MachineProfile, owner=request.auth, pk=profile_id, missing="No such machine.")
    )
    return Status(204, None)


# ------------------------------------------------------------------------------------------ material presets


MaterialName = Literal[tuple(sorted(materials()))]
ModeName = Literal[tuple(MODES)]


def _settings_limits(name: str) -> list:
    return ArtworkSettings.model_fields[name].metadata


class PresetOut(Schema):
    id: int
    name: str
    material: str
    mode: str
    line_interval_mm: float | None = Field(description="Null: the coarser of the material's and the machine's.")
    adjustments: dict[str, float | bool] = Field(description="Tone adjustments over the material's defaults.")
    notes: str
    created_at: datetime


class PresetIn(StrictIn):
    name: str = Field(max_length=60, pattern=VISIBLE_TEXT, description="Unique among your presets.")
    material: MaterialName = Field(description="A material name from GET /engrave/library.")
    mode: ModeName = "floyd-steinberg"
    line_interval_mm: Annotated[float, *_settings_limits("line_interval_mm")] | None = Field(
        None, description="Your own line interval, mm; null for the default."
    )
    adjustments: AdjustmentParams = Field(default_factory=AdjustmentParams)
    notes: str = Field("", max_length=300, pattern=NOTES_TEXT)


class PresetPatch(StrictIn):
    """Only the fields sent change; send `line_interval_mm: null` to go back to the default interval."""

    name: str | None = Field(None, max_length=60, pattern=VISIBLE_TEXT)
    material: MaterialName | None = None
    mode: ModeName | None = None
    line_interval_mm: Annotated[float, *_settings_limits("line_interval_mm")] | None = None
    adjustments: AdjustmentParams | None = Field(None, description="Replaces the preset's adjustments.")
    notes: str | None = Field(None, max_length=300, pattern=NOTES_TEXT)


PRESET_FIELDS = ("name", "material", "mode", "line_interval_mm", "adjustments", "notes")
PRESET_REFUSALS = "Refusals: 422 `validation_error` or `invalid_preset`; 409 `duplicate_name`."


@router.get(
    "/engrave/presets",
    response=list[PresetOut],
    summary="List your material presets",
    description="Named starting points: a library material with your own mode, adjustments and line interval.",
)
@paginate(Paginated)
def list_presets(request):
    return selectors.material_presets(owner=request.auth)


@router.post(
    "/engrave/presets",
    response={201: PresetOut, 409: ErrorOut},
    summary="Save a material preset",
    description=f"Copy a preset's fields into the settings to use it. {PRESET_REFUSALS}",
)
def create_preset(request, payload: PresetIn):
    preset = services.material_preset_save(owner=request.auth, values=payload.model_dump(exclude_none=True))
    return Status(201, preset)


@router.get(
    "/engrave/presets/{preset_id}",
    response=PresetOut,
    summary="One of your material presets",
    description="Another account's preset, or one that was deleted, answers 404.",
)
def get_preset(request, preset_id: int):
    return owned(MaterialPreset, owner=request.auth, pk=preset_id, missing="No such preset.")


@router.patch(
    "/engrave/presets/{preset_id}",
    response={200: PresetOut, 409: ErrorOut},
    summary="Change a material preset",
    description=f"Only the fields sent change. {PRESET_REFUSALS}",
)
def update_preset(request, preset_id: int, payload: PresetPatch):
    preset = owned(MaterialPreset, owner=request.auth, pk=preset_id, missing="No such preset.")
    current = {field: getattr(preset, field) for field in PRESET_FIELDS}
    changes = payload.model_dump(exclude_unset=True)
    # null means "unchanged", except for the line interval, where it means "the default".
    values = current | {k: v for k, v in changes.items() if v is not None or k == "line_interval_mm"}
    if isinstance(values["adjustments"], dict):
        values["adjustments"] = {k: v for k, v in values["adjustments"].items() if v is not None}
    return services.material_preset_save(owner=request.auth, preset=preset, values=values)


@router.delete(
    "/engrave/presets/{preset_id}",
    response={204: None},
    summary="Delete a material preset",
    description="Settings copied from it are not affected: a preset is only a starting point.",
)
def delete_preset(request, preset_id: int):
    services.material_preset_delete(
        preset=owned(MaterialPreset, owner=request.auth, pk=preset_id, missing="No such preset.")
    )
    return Status(204, None)
