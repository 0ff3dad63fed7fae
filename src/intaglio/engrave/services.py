"""Engrave studio writes: artworks and their versions, the studio's live preview, machine profiles and material
presets."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import PurePath

import cv2
import numpy as np
import pydantic
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from PIL import Image, ImageOps

from intaglio.assets.models import Asset, AssetKind
from intaglio.assets.names import title_clean
from intaglio.assets.storage import blob_open
from intaglio.core.audit import audit_owned
from intaglio.core.errors import validation_problems
from intaglio.engrave.errors import StudioRefused
from intaglio.engrave.models import Artwork, ArtworkVersion, CalibrationProfile, MachineProfile, MaterialPreset
from intaglio.engrave.params import ArtworkSettings, CalibrationSpec, CardSettings, LaserIn, MachineSpec
from intaglio.engrave.selectors import calibration_match, card_layout, machine_key, reading_card
from intaglio.imaging import ImageMemoryBusy, ImageMemoryRefused, reserve_decode
from intaglio.imaging.artwork import (
    ArtworkError,
    BurnTime,
    Layout,
    PhotoSource,
    estimate_burn_time,
    frame_photo,
    prepare_artwork,
)
from intaglio.jobs.models import Job
from intaglio.jobs.services import job_create, job_delete, job_replace

log = logging.getLogger("intaglio.engrave")

# A live preview is the real artwork, dot for dot, up to this many pixels; a larger piece is previewed at a coarser
# line interval (the response says which), so a live preview stays quick at any size.
LIVE_PREVIEW_MAX_PIXELS = 4_000_000
LIVE_PREVIEW_CACHE_ENTRIES = 24
# Photos whose decoded, framed pixels the live preview keeps between changes of settings (a few MB each).
LIVE_PREVIEW_PHOTOS = 2
# The simulated burn travels at the studio canvas's width (a 1:1 view asks for the full one): a dithered burn is
# noise to JPEG, so the full 12 MP / 100 mm picture alone would be about 750 KB per setting change.
LIVE_PREVIEW_VIEW_PX = 900
# A photo stretched by more than this for the piece's dots shows its pixels in the burn.
UPSCALE_WARNING = 1.5
# Below / above this share of dots burned the piece comes out blank / as one dark slab.
NOTHING_BURNS, EVERYTHING_BURNS = 0.002, 0.995


def _machine_profile_frozen(raw: dict, *, owner) -> MachineProfile | None:
    """Replaces `machine_profile` (the id of one of the owner's machines) in `raw` by its frozen machine_spec."""
    profile_id = raw.pop("machine_profile", None)
    if profile_id in (None, ""):
        return None
    profile = MachineProfile.objects.filter(owner=owner, pk=profile_id).first()
    if profile is None:
        raise StudioRefused("invalid_settings", "That machine profile does not exist.")
    raw["machine"], raw["machine_spec"] = None, profile.spec()
    return profile


def settings_validate(raw: dict, *, owner) -> ArtworkSettings:
    """Validates studio settings. `machine_profile` (the id of one of the owner's machines) becomes a frozen
    machine_spec, so the job keeps working the same if the profile changes later. While `use_calibration` is on,
    the owner's calibration profile for this material, machine, mode and interval is frozen in as `calibration`
    (and dropped when none matches)."""
    raw = dict(raw)
    machine = _machine_profile_frozen(raw, owner=owner)
    raw.pop("calibration", None)  # always the studio's to set, from the profile that matches now
    try:
        # The form's values and stored rows are read leniently, as they always were; the API checked JSON types.
        clean = ArtworkSettings.model_validate(raw, strict=False)
    except pydantic.ValidationError as invalid:
        raise StudioRefused(
            "invalid_settings", f"Some settings are not valid: {validation_problems(invalid)}."
        ) from None
    if clean.use_calibration:
        profile = calibration_match(owner=owner, settings=clean, machine=machine)
        clean.calibration = calibration_spec(profile) if profile else None
    return clean


def calibration_spec(profile: CalibrationProfile) -> CalibrationSpec:
    """A calibration profile's numbers as settings freeze them."""
    return CalibrationSpec(
        profile=profile.pk,
        label=(
            f"Calibrated {profile.updated_at:%-d %b %Y} from your card"
            if profile.source == CalibrationProfile.Source.CARD
            else "Started from other makers' measurements"
        ),
        mark_diameter_mm=profile.mark_diameter_mm,
        tone=[tuple(pair) for pair in profile.tone],
        power_pct=profile.power_pct,
        speed_mm_min=profile.speed_mm_min,
    )


def default_settings() -> dict:
    """Where a new artwork starts: birch plywood on a 10 W diode, 100 mm wide."""
    return {"material": "birch-plywood", "machine": "diode-10w", "width_mm": 100.0, "mode": "floyd-steinberg"}


# ------------------------------------------------------------------------------------------------------ artworks


def artwork_create(*, owner, source: Asset, title: str = "", settings: dict | None = None) -> Artwork:
    if source.owner_id != owner.pk or source.kind != AssetKind.SOURCE_PHOTO:
        raise StudioRefused("invalid_source", "That photo does not exist.", status=404)
    clean = settings_validate(settings, owner=owner) if settings else None
    # Called after the photo (the file's own name, cleaned) unless given a title.
    title = title_clean(title) or source.title or PurePath(source.download_name).stem
    artwork = Artwork.objects.create(
        owner=owner,
        title=title,
        source=source,
        settings=clean.model_dump(mode="json") if clean else default_settings(),
    )
    log.info("artwork.created", extra={"artwork_id": artwork.pk, "asset_id": source.pk})
    return artwork


def artwork_save_settings(*, artwork: Artwork, settings: dict) -> ArtworkSettings:
    """Keeps the settings the user is looking at, so the studio reopens there."""
    clean = settings_validate(settings, owner=artwork.owner)
    artwork.settings = clean.model_dump(mode="json")
    artwork.updated_at = timezone.now()
    artwork.save(update_fields=["settings", "updated_at"])
    return clean


def artwork_rename(*, artwork: Artwork, title: str) -> Artwork:
    """Renames the artwork; the files of versions prepared from now on are named after the new title."""
    title = title_clean(title)
    if not title:
        raise StudioRefused("invalid_title", "Give the artwork a name.")
    artwork.title = title
    artwork.save(update_fields=["title"])
    return artwork


def _source_size(source: Asset) -> tuple[int, int]:
    return source.width or 1, source.height or 1


def _usable_source(artwork: Artwork) -> Asset:
    if artwork.source is None:
        raise StudioRefused(
            "source_gone",
            "The photo this artwork was made from has been deleted, so no new version can be made. "
            "Its earlier versions' files are still here.",
            status=409,
        )
    return artwork.source


def prepared_settings(clean: ArtworkSettings, *, source: Asset) -> ArtworkSettings:
    """The settings a version is made with: `clean` with every laser value filled in, so the version stores the
    power, speed, passes, overscan, air and direction its files have. Refused (StudioRefused) when they cannot make
    files: a piece larger than the work area or placed past its edge, a material the machine's kind of laser cannot
    mark, a laser value beyond the machine's limits (`ArtworkSettings.refusal`)."""
    refused = clean.refusal(source_size=_source_size(source))
    if refused:
        raise StudioRefused(*refused)
    return clean.model_copy(update={"laser": LaserIn(**clean.effective_laser().values())})


def artwork_prepare(*, artwork: Artwork, settings: dict, idempotency_key: str | None = None) -> ArtworkVersion:
    """Queues the prepare job for these settings and records it as the artwork's next version. The version (and
    the job) get every laser value filled in; the artwork keeps the settings as given, so the studio reopens with
    the values that follow the material and machine still following them."""
    source = _usable_source(artwork)
    clean = settings_validate(settings, owner=artwork.owner)
    params = prepared_settings(clean, source=source).model_dump(mode="json")
    # Keys are per account for jobs; scoped here to the artwork, so a key reused on another artwork never
    # returns (and later deletes) that artwork's job.
    job_key = (
        f"artwork-{artwork.pk}-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}" if idempotency_key else None
    )
    with transaction.atomic():
        Artwork.objects.select_for_update().filter(pk=artwork.pk).first()
        job = job_create(
            owner=artwork.owner, kind="engrave.prepare", params=params, inputs=[source], idempotency_key=job_key
        )
        existing = ArtworkVersion.objects.filter(artwork=artwork, job=job).first()
        if existing is not None:  # an idempotent repeat
            return existing
        number = (artwork.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        version = ArtworkVersion.objects.create(artwork=artwork, number=number, settings=params, job=job)
        artwork.settings = clean.model_dump(mode="json")
        artwork.updated_at = timezone.now()
        artwork.save(update_fields=["settings", "updated_at"])
    log.info("artwork.version", extra={"artwork_id": artwork.pk, "version": number, "job_id": job.pk})
    return version


def artwork_styles(*, artwork: Artwork, settings: dict | None = None) -> Job:
    """Queues the style gallery: each creative style rendered on the artwork's photo and material."""
    source = _usable_source(artwork)
    clean = settings_validate(settings or artwork.settings, owner=artwork.owner)
    problem = clean.work_area_fit(source_size=_source_size(source)).problem
    if problem:
        raise StudioRefused("does_not_fit", problem)
    params = clean.model_dump(mode="json")
    params["mode"] = "floyd-steinberg"  # each style sets its own
    job = job_create(owner=artwork.owner, kind="engrave.styles", params=params, inputs=[source])
    return job_replace(holder=artwork, field="styles_job", job=job)


def artwork_delete(*, artwork: Artwork, actor=None) -> None:
    """Deletes the artwork, every version's files and its style gallery. The photo stays while another job (its
    upload preview, another artwork) still uses it; otherwise it goes too."""
    jobs = [version.job for version in artwork.versions.select_related("job") if version.job is not None]
    if artwork.styles_job is not None:
        jobs.append(artwork.styles_job)
    artwork_id = artwork.pk
    artwork.delete()
    for job in jobs:
        job_delete(job=job)
    if actor is not None:
        audit_owned(
            "artwork.deleted",
            actor=actor,
            owner_id=artwork.owner_id,
            target=("artwork", artwork_id),
            detail={"versions": len(jobs)},
        )
    log.info("artwork.deleted", extra={"artwork_id": artwork_id, "jobs": len(jobs)})


# -------------------------------------------------------------------------------------------------- live preview


@dataclasses.dataclass(frozen=True)
class PreviewWarning:
    """Something to fix before burning: `code` for programs (what preparing would refuse: does_not_fit,
    unusable_combination, laser_out_of_range, outside_work_area; and nothing_burns, everything_burns, upscaled,
    coarse_preview), `message` for people."""

    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class LivePreview:
    """The studio's live preview: the artwork some settings make, rendered for the screen, never stored."""

    key: str
    width_px: int
    height_px: int
    width_mm: float
    height_mm: float
    dpi: float
    preview_dpi: float  # equal to dpi unless the piece is too large to preview dot for dot
    picture_px: tuple[int, int]  # width and height of the pictures (the files' dots at preview_dpi)
    fit: str  # how the photo is framed: the framed photo's URL names it
    framing: Layout  # the crop, turn and mirror the photo is shown with (photo_framing_query puts them in its URL)
    original_jpeg: bytes  # the photo framed exactly as the artwork
    artwork_png: bytes  # what the laser gets (1-bit, or grey power for grayscale)
    burn_jpeg: bytes  # the simulated burn on the material, dot for dot
    burn_view_jpeg: bytes  # the same at most LIVE_PREVIEW_VIEW_PX wide, area-averaged (no moiré)
    warnings: tuple[PreviewWarning, ...]
    render_ms: float  # of the render that made it, also when it comes from the cache
    cached: bool = False
    # The laser settings the files would get, each {"value", "source", "label"} (EffectiveLaser.as_json); None when
    # the machine's kind of laser cannot mark the material.
    laser: dict | None = None
    # The quick estimate of the burn: the preview's rows stretched to the real line interval (estimate_burn_time).
    burn_time: BurnTime | None = None
    # What preparing these settings would be refused with, (code, message), or None (ArtworkSettings.refusal).
    refusal: tuple[str, str] | None = None

    @property
    def full_resolution(self) -> bool:
        return math.isclose(self.dpi, self.preview_dpi, rel_tol=1e-6)


# key → (photo id, live preview)
_live_preview_cache: OrderedDict[str, tuple[int, LivePreview]] = OrderedDict()
_live_preview_lock = threading.Lock()
# storage key → the photo with its loaded pixels
_live_preview_photos: OrderedDict[str, PhotoSource] = OrderedDict()
# Threads start on first use, so none is carried into a forked web process.
_live_preview_encoder = ThreadPoolExecutor(max_workers=4, thread_name_prefix="live-preview-encode")


def _live_preview_key(source: Asset, settings: ArtworkSettings) -> str:
    # The storage key is random and never reused, so a key can never match another photo's preview.
    canonical = json.dumps([source.storage_key, settings.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def live_preview_render(*, owner, source: Asset, settings: dict) -> LivePreview:
    """The artwork these settings make, rendered for the screen: the framed photo, the artwork at its true dots and
    the simulated burn. Cached by photo and settings in this process only: live previews are never stored."""
    if source.owner_id != owner.pk or source.kind != AssetKind.SOURCE_PHOTO:
        raise StudioRefused("invalid_source", "That photo does not exist.", status=404)
    clean = settings_validate(settings, owner=owner)
    key = _live_preview_key(source, clean)
    with _live_preview_lock:
        if key in _live_preview_cache:
            _live_preview_cache.move_to_end(key)
            return dataclasses.replace(_live_preview_cache[key][1], cached=True)
    preview = _render_live_preview(source, clean, key)
    with _live_preview_lock:
        _live_preview_cache[key] = (source.pk, preview)
        while len(_live_preview_cache) > LIVE_PREVIEW_CACHE_ENTRIES:
            _live_preview_cache.popitem(last=False)
    return preview


def artwork_live_preview(*, artwork: Artwork, settings: dict) -> LivePreview:
    """The studio's live preview of an artwork; the settings are kept so the studio reopens on them."""
    preview = live_preview_render(owner=artwork.owner, source=_usable_source(artwork), settings=settings)
    artwork_save_settings(artwork=artwork, settings=settings)
    return preview


def _live_preview_photo(storage_key: str) -> PhotoSource:
    """The photo for the live preview, with the pixels it last loaded (blob keys are never reused)."""
    with _live_preview_lock:
        if storage_key in _live_preview_photos:
            _live_preview_photos.move_to_end(storage_key)
            return _live_preview_photos[storage_key]
    with blob_open(storage_key) as handle:
        photo = PhotoSource(handle.read())
    with _live_preview_lock:
        photo = _live_preview_photos.setdefault(storage_key, photo)
        while len(_live_preview_photos) > LIVE_PREVIEW_PHOTOS:
            _live_preview_photos.popitem(last=False)
    return photo


def _render_live_preview(source: Asset, settings: ArtworkSettings, key: str) -> LivePreview:
    started = time.perf_counter()
    machine = real_machine = settings.engine_machine()
    interval = settings.line_interval()
    size = settings.work_area_fit(source_size=_source_size(source))
    preview_interval = interval * max(1.0, math.sqrt(size.width_px * size.height_px / LIVE_PREVIEW_MAX_PIXELS))
    problems = settings.problems(source_size=_source_size(source))
    # The reasons prepare would refuse, in its order (the size, the laser, the placement), shown as warnings: the
    # picture is still shown.
    warnings = [PreviewWarning(code, message) for code, message in problems]
    if size.problem:
        # Still show the picture; only preparing it is refused. The engine would refuse the piece at the coarser
        # interval below; its own check (the same one) is lifted.
        machine = dataclasses.replace(machine, work_area_mm=(1e6, 1e6))
    if preview_interval > interval:
        warnings.append(
            PreviewWarning(
                "coarse_preview",
                f"This piece is large, so the preview shows it at {25.4 / preview_interval:.0f} DPI; "
                f"the files are made at {25.4 / interval:.0f} DPI.",
            )
        )
    layout = settings.placed_layout()
    # The pixels do not depend on where the piece sits, so a placement past the bed's edge (warned about above)
    # is previewed at the corner the engine accepts.
    framing = dataclasses.replace(layout, anchor="bottom-left", offset_mm=(0.0, 0.0))
    kwargs = settings.engine_kwargs() | {"machine": machine, "line_interval_mm": preview_interval, "layout": framing}
    try:
        art = prepare_artwork(_live_preview_photo(source.storage_key), **kwargs)
        height, width = art.burn.shape
        photo_framing = photo_framing_of(framing)
        original_jpeg = _framed_photo(source.storage_key, (width, height), settings.fit, photo_framing)
    except ArtworkError as refused:
        raise StudioRefused("cannot_render", str(refused)) from None
    except ImageMemoryRefused as refused:
        raise StudioRefused("too_much_memory", refused.message) from None
    except ImageMemoryBusy as busy:
        raise StudioRefused("busy", busy.message, status=503) from None
    laser, burn_time = None, None
    if not settings.laser_problem():
        effective = settings.effective_laser()
        laser = effective.as_json()
        # The real job's rows, from the preview's picture, at the real machine and placement.
        burn_time = estimate_burn_time(
            dataclasses.replace(art, machine=real_machine), effective.settings, line_interval_mm=interval, layout=layout
        )
    # The laser's PNG is encoded beside the simulated burn: the encoders and the simulation release the GIL, so
    # the two share the cores.
    artwork_png = _live_preview_encoder.submit(art.png)
    burn, burn_view = _burn_pictures(art.simulate())
    warnings += _burn_warnings(settings, source, art)
    return LivePreview(
        key=key,
        width_px=size.width_px,
        height_px=round(art.height_mm / interval),
        width_mm=art.width_mm,
        height_mm=art.height_mm,
        dpi=25.4 / interval,
        preview_dpi=25.4 / preview_interval,
        picture_px=(width, height),
        fit=settings.fit,
        original_jpeg=original_jpeg,
        framing=photo_framing,
        artwork_png=artwork_png.result(),
        burn_jpeg=burn,
        burn_view_jpeg=burn_view,
        warnings=tuple(warnings),
        render_ms=(time.perf_counter() - started) * 1000,
        laser=laser,
        burn_time=burn_time,
        refusal=problems[0] if problems else None,
    )


def _burn_pictures(burn: np.ndarray) -> tuple[bytes, bytes]:
    """The simulated burn as JPEG dot for dot, and at most LIVE_PREVIEW_VIEW_PX wide for the fitted view: smoothed
    by the footprint of a screen pixel before it is averaged down, so no dot pattern beats against the pixel grid."""
    full = io.BytesIO()
    Image.fromarray(burn).save(full, "JPEG", quality=88)
    height, width = burn.shape[:2]
    if width <= LIVE_PREVIEW_VIEW_PX:
        return full.getvalue(), full.getvalue()
    ratio = width / LIVE_PREVIEW_VIEW_PX
    smoothed = cv2.GaussianBlur(burn, (0, 0), 0.6 * ratio)
    view = cv2.resize(smoothed, (LIVE_PREVIEW_VIEW_PX, max(1, round(height / ratio))), interpolation=cv2.INTER_AREA)
    small = io.BytesIO()
    Image.fromarray(view).save(small, "JPEG", quality=75)
    return full.getvalue(), small.getvalue()


def _burn_warnings(settings: ArtworkSettings, source: Asset, art) -> list[PreviewWarning]:
    """What would waste a burn beyond what preparing refuses: a blank or solid piece, a photo stretched past its
    detail. The size checks use the files' own line interval, not the preview's."""
    warnings = []
    marked = float(np.mean(art.power > 0)) if art.power is not None else float(np.mean(art.burn))
    if marked < NOTHING_BURNS:
        warnings.append(
            PreviewWarning(
                "nothing_burns",
                "Nothing will burn: the artwork has no dots. Move brightness or contrast back towards the "
                "material's defaults.",
            )
        )
    elif marked > EVERYTHING_BURNS:
        warnings.append(
            PreviewWarning(
                "everything_burns",
                "Everything will burn: the artwork is one solid block. Move brightness or contrast back towards "
                "the material's defaults.",
            )
        )
    upscale, full_quality_mm = _photo_upscale(settings, source, art)
    if upscale > UPSCALE_WARNING:
        warnings.append(
            PreviewWarning(
                "upscaled",
                f"The photo is enlarged {upscale:.1f}× for this size and line interval, so its pixels will show. "
                f"It has full detail up to {full_quality_mm:.0f} mm wide at {settings.line_interval():g} mm lines.",
            )
        )
    return warnings


def _photo_upscale(settings: ArtworkSettings, source: Asset, art) -> tuple[float, float]:
    """How much the photo is enlarged for the files' dots, and the widest piece it makes with no enlargement."""
    photo_w, photo_h = _source_size(source)
    interval = settings.line_interval()
    dots_w, dots_h = art.width_mm / interval, art.height_mm / interval
    scale_w, scale_h = dots_w / photo_w, dots_h / photo_h
    # Crop fills the piece (the larger scale), fit and stretch show the whole photo along each axis.
    upscale = max(scale_w, scale_h) if settings.fit != "fit" else min(scale_w, scale_h)
    return upscale, art.width_mm / max(upscale, 1e-9)


def photo_framing_of(layout: Layout) -> Layout:
    """What of a layout the framed photo shows: its crop, turn and mirror (the mask and placement are the dots')."""
    return Layout(crop=layout.crop, rotate_deg=layout.rotate_deg, mirror=layout.mirror)


def photo_framing_query(framing: Layout) -> str:
    """The framed photo's URL query for a framing ("" for the whole photo upright), read by `photo_framing_read`."""
    parts = []
    if framing.crop:
        parts.append("crop=" + ",".join(f"{value:.6g}" for value in framing.crop))
    if framing.rotate_deg:
        parts.append(f"rotate={framing.rotate_deg}")
    if framing.mirror:
        parts.append("mirror=1")
    return "&".join(parts)


def photo_framing_read(query) -> Layout:
    """The framing a framed photo's URL query names (see `photo_framing_query`); StudioRefused when it is not one."""
    try:
        crop = tuple(float(value) for value in query["crop"].split(",")) if query.get("crop") else None
        framing = Layout(crop=crop, rotate_deg=int(query.get("rotate") or 0), mirror=query.get("mirror") == "1")
    except ValueError:
        framing = None
    if framing is None or framing.problem():
        raise StudioRefused("invalid_settings", "That framing is not one the preview makes.")
    return framing


def framed_photo(*, artwork: Artwork, size: tuple[int, int], fit: str, framing: Layout) -> bytes:
    """The artwork's photo framed as the artwork at `size` (the live preview's dots) as JPEG: sent once per framing
    and cached by the browser, not with every setting change."""
    return framed_source_photo(source=_usable_source(artwork), size=size, fit=fit, framing=framing)


def framed_source_photo(*, source: Asset, size: tuple[int, int], fit: str, framing: Layout) -> bytes:
    """`framed_photo` for an uploaded photo (the API's live preview, which names the photo, not an artwork)."""
    if fit not in ("crop", "fit", "stretch") or not (1 <= size[0] <= 8000 and 1 <= size[1] <= 8000):
        raise StudioRefused("invalid_settings", "That framing is not one the preview makes.")
    if source.kind != AssetKind.SOURCE_PHOTO:
        raise StudioRefused("invalid_source", "That photo does not exist.", status=404)
    try:
        return _framed_photo(source.storage_key, size, fit, photo_framing_of(framing))
    except ImageMemoryRefused as refused:
        raise StudioRefused("too_much_memory", refused.message) from None
    except ImageMemoryBusy as busy:
        raise StudioRefused("busy", busy.message, status=503) from None


@lru_cache(maxsize=8)
def _framed_photo(storage_key: str, size: tuple[int, int], fit: str, layout: Layout) -> bytes:
    """The photo cropped, turned and mirrored by the layout, then cropped, letterboxed or stretched exactly as the
    engine frames it, at the preview's size. Cached by blob (keys are never reused), since most setting changes
    keep the size."""
    with blob_open(storage_key) as handle:
        data = handle.read()
    # Decoded at least large enough that the layout's crop still fills the preview.
    crop_w, crop_h = (layout.crop[2], layout.crop[3]) if layout.crop else (1.0, 1.0)
    if layout.rotate_deg in (90, 270):
        crop_w, crop_h = crop_h, crop_w
    draft = (math.ceil(size[0] / crop_w), math.ceil(size[1] / crop_h))
    # Priced from the header (the drafted decode and its RGB copy) and held from the web process's image budget.
    with reserve_decode(data, into=["RGB"], draft=("RGB", draft)):
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", draft)
        image = image.convert("RGB")
        if layout.changes_photo:
            image = frame_photo(image, layout)
        if fit == "crop":
            framed = ImageOps.fit(image, size, Image.Resampling.BOX)
        elif fit == "fit":
            framed = ImageOps.pad(image, size, Image.Resampling.BOX, color=(255, 255, 255))
        else:
            framed = image.resize(size, Image.Resampling.BOX)
        del image
    buffer = io.BytesIO()
    framed.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------- machines and presets


MACHINE_FIELDS = (
    "name",
    "kind",
    "power_w",
    "spot_mm",
    "line_interval_mm",
    "max_feed_mm_min",
    "work_area_w_mm",
    "work_area_h_mm",
    "s_max",
    "min_power_pct",
)


def _given(value, default):
    """A form's optional number: blank means the default; anything else (even 0) is checked as given."""
    return default if value in (None, "") else value


def machine_profile_save(*, owner, values: dict, profile: MachineProfile | None = None) -> MachineProfile:
    """Creates or updates one of the owner's machines; the numbers are checked as the engine will use them."""
    name = str(values.get("name", "")).strip()[:60]
    if not name:
        raise StudioRefused("invalid_machine", "Give the machine a name.")
    try:
        spec = MachineSpec.model_validate(
            {
                "label": name,
                "kind": values.get("kind"),
                "power_w": values.get("power_w"),
                "spot_mm": values.get("spot_mm"),
                "line_interval_mm": values.get("line_interval_mm") or values.get("spot_mm"),
                "max_feed_mm_min": values.get("max_feed_mm_min"),
                "work_area_mm": (values.get("work_area_w_mm"), values.get("work_area_h_mm")),
                "s_max": _given(values.get("s_max"), 1000),
                "min_power_pct": _given(values.get("min_power_pct"), 0),
            },
            strict=False,
        )
    except pydantic.ValidationError as invalid:
        problems = validation_problems(invalid)
        raise StudioRefused("invalid_machine", f"Some machine settings are not valid: {problems}.") from None
    profile = profile or MachineProfile(owner=owner)
    profile.name = name
    profile.kind = spec.kind
    profile.power_w, profile.spot_mm, profile.line_interval_mm = spec.power_w, spec.spot_mm, spec.line_interval_mm
    profile.max_feed_mm_min = spec.max_feed_mm_min
    profile.work_area_w_mm, profile.work_area_h_mm = spec.work_area_mm
    profile.s_max, profile.min_power_pct = spec.s_max, spec.min_power_pct
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise StudioRefused("duplicate_name", f"You already have a machine called {name!r}.", status=409) from None
    return profile


def machine_profile_delete(*, profile: MachineProfile) -> None:
    # Jobs and versions made with it keep their frozen machine_spec, so nothing else changes.
    profile.delete()


def material_preset_save(*, owner, values: dict, preset: MaterialPreset | None = None) -> MaterialPreset:
    """Creates or updates a preset: a library material plus the user's own mode, adjustments and line interval."""
    name = str(values.get("name", "")).strip()[:60]
    if not name:
        raise StudioRefused("invalid_preset", "Give the preset a name.")
    probe = {
        "material": values.get("material"),
        "machine": "diode-10w",
        "width_mm": 10,
        "mode": values.get("mode") or "floyd-steinberg",
        "line_interval_mm": values.get("line_interval_mm") or None,
        "adjustments": values.get("adjustments") or {},
    }
    try:
        clean = ArtworkSettings.model_validate(probe, strict=False)
    except pydantic.ValidationError as invalid:
        problems = validation_problems(invalid)
        raise StudioRefused("invalid_preset", f"Some preset settings are not valid: {problems}.") from None
    preset = preset or MaterialPreset(owner=owner)
    preset.name = name
    preset.material, preset.mode, preset.line_interval_mm = clean.material, clean.mode, clean.line_interval_mm
    preset.adjustments = clean.adjustments.model_dump(exclude_none=True)
    preset.notes = str(values.get("notes") or "").strip()[:300]
    try:
        with transaction.atomic():
            preset.save()
    except IntegrityError:
        raise StudioRefused("duplicate_name", f"You already have a preset called {name!r}.", status=409) from None
    return preset


def material_preset_from_settings(*, owner, name: str, settings: dict) -> MaterialPreset:
    """*Save as preset* in the studio: the material, mode, line interval and the adjustments the user set (those
    left to the material's defaults stay unset, so the preset keeps following the material's defaults)."""
    adjustments = {key: value for key, value in (settings.get("adjustments") or {}).items() if value is not None}
    values = {
        "name": name,
        "material": settings.get("material"),
        "mode": settings.get("mode"),
        "line_interval_mm": settings.get("line_interval_mm"),
        "adjustments": adjustments,
    }
    return material_preset_save(owner=owner, values=values)


def material_preset_delete(*, preset: MaterialPreset) -> None:
    preset.delete()


# ---------------------------------------------------------------------------------------------------- calibration


def card_create(*, owner, values: dict, idempotency_key: str | None = None) -> Job:
    """Queues a material test card. `machine_profile` (one of the owner's machines) is frozen as for artworks;
    `calibration_profile` (one of the owner's calibrations) makes a verify card burned with that profile."""
    raw = dict(values)
    machine = _machine_profile_frozen(raw, owner=owner)
    raw.pop("machine_profile", None)
    verify_id = raw.pop("calibration_profile", None)
    if verify_id not in (None, ""):
        profile = CalibrationProfile.objects.filter(owner=owner, pk=verify_id).first()
        if profile is None:
            raise StudioRefused("invalid_settings", "That calibration does not exist.", status=404)
        raw.update(
            material=profile.material,
            mode=profile.mode,
            line_interval_mm=profile.line_interval_mm,
            calibration=calibration_spec(profile).model_dump(mode="json"),
        )
    if machine is not None:
        raw["machine_profile"] = machine.pk
    try:
        clean = CardSettings.model_validate(raw)
    except pydantic.ValidationError as invalid:
        raise StudioRefused("invalid_settings", f"The card cannot be made: {validation_problems(invalid)}.") from None
    params = clean.model_dump(mode="json")
    return job_create(owner=owner, kind="engrave.card", params=params, idempotency_key=idempotency_key)


def card_read_start(*, owner, card: Job, photo: Asset) -> Job:
    """Queues the reading of a photo of a burned card: the photo and the card's card.json and PNG are its inputs."""
    files = {asset.role: asset for asset in card.outputs.all()} if card.kind == "engrave.card" else {}
    if card.owner_id != owner.pk or not {"png", "card-json"} <= files.keys():
        raise StudioRefused("card_not_ready", "That test card does not exist or is not made yet.", status=404)
    if photo.owner_id != owner.pk:
        raise StudioRefused("invalid_source", "That photo does not exist.", status=404)
    return job_create(owner=owner, kind="engrave.card_read", inputs=[photo, files["card-json"], files["png"]])


def _reading(read_job: Job | None, owner) -> tuple[dict, Job]:
    """A finished reading of the owner's, and the card it was of."""
    card_job = reading_card(read_job) if read_job is not None else None
    if (
        read_job is None
        or read_job.owner_id != owner.pk
        or read_job.kind != "engrave.card_read"
        or not read_job.result
        or card_job is None
    ):
        raise StudioRefused("reading_not_ready", "That card reading does not exist or has no result.", status=404)
    return read_job.result, card_job


def calibration_profile_save(*, owner, read_job: Job) -> CalibrationProfile:
    """Makes (or, for the same material, machine, mode and interval, replaces) the owner's calibration profile
    from a card reading."""
    result, card_job = _reading(read_job, owner)
    card, layout = CardSettings.model_validate(card_job.params), card_layout(card_job)
    machine = card.engine_machine()
    grid = [
        {"power_pct": cell["power_pct"], "speed_mm_min": cell["speed_mm_min"], "darkness": round(dark, 4)}
        for cell, dark in zip(layout.get("grid", []), result.get("grid_darkness", []), strict=False)
    ]
    best = result.get("best_cell") or {}
    values = {
        "machine_label": card.machine_spec.label if card.machine_spec else machine.label,
        "machine_kind": machine.kind,
        "mark_diameter_mm": float(result["mark_diameter_mm"]),
        "tone": result.get("tone", []),
        "tone_response": result.get("tone_response", []),
        "grid": grid,
        "power_pct": best.get("power_pct"),
        "speed_mm_min": best.get("speed_mm_min"),
        "residual": float(result.get("residual", 0.0)),
        "registration_rms_px": float(result.get("registration_rms_px", 0.0)),
        "read_job": read_job,
        "source": CalibrationProfile.Source.CARD,
        "verify_error": None,
        "verified_at": None,
        "updated_at": timezone.now(),
    }
    CalibrationSpec(mark_diameter_mm=values["mark_diameter_mm"], tone=[tuple(p) for p in values["tone"]])
    profile, _ = CalibrationProfile.objects.update_or_create(
        owner=owner,
        material=card.material,
        machine=machine_key(machine_name=card.machine, machine_profile=card.machine_profile),
        mode=card.mode,
        line_interval_mm=round(float(layout["line_interval_mm"]), 4),
        defaults=values,
    )
    log.info("calibration.saved", extra={"profile_id": profile.pk, "job_id": read_job.pk})
    return profile


def calibration_profile_verify(
    *, owner, read_job: Job | None, profile: CalibrationProfile | None = None
) -> CalibrationProfile:
    """Records what a verify card (made with a profile) measured: the largest tone error the profile leaves. Given
    `profile`, the card must have been made with that very profile; nothing is recorded otherwise."""
    result, card_job = _reading(read_job, owner)
    card = CardSettings.model_validate(card_job.params)
    profile_id = card.calibration.profile if card.calibration else None
    made_with = CalibrationProfile.objects.filter(owner=owner, pk=profile_id).first() if profile_id else None
    if made_with is None or (profile is not None and made_with.pk != profile.pk):
        raise StudioRefused(
            "not_a_verify_card",
            "That reading is not of a verify card made with this calibration."
            if profile is not None
            else "That reading is not of a verify card for one of your calibrations.",
        )
    profile = made_with
    profile.verify_error = float(result.get("tone_error", 0.0))
    profile.verified_at = timezone.now()
    profile.save(update_fields=["verify_error", "verified_at"])
    return profile


def calibration_profile_delete(*, profile: CalibrationProfile) -> None:
    profile.delete()
