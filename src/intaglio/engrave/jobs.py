"""Engraving job kinds: a photo → laser-ready files (PNG with DPI, SVG, G-code, preview of the burn), and the style
gallery (each creative style rendered on the photo)."""

from __future__ import annotations

import io
from pathlib import PurePath

from django.db import models
from PIL import Image

from intaglio.assets.models import AssetKind
from intaglio.assets.names import file_stem
from intaglio.engrave.models import Artwork
from intaglio.engrave.params import STYLES, ArtworkSettings, JobSettings
from intaglio.imaging.artwork import ArtworkError, get_material, prepare_artwork
from intaglio.jobs.kinds import JobKind, register
from intaglio.jobs.runner import PermanentJobError

# The gallery shows each style at this width at most, so it stays a quick, cheap job.
STYLE_PICTURE_MAX_PX = 900


def _source_size(source) -> tuple[int, int] | None:
    return (source.width, source.height) if source.width and source.height else None


def photo_title(source) -> str:
    """The owner's name for a photo: its title, else its download name without extension."""
    return source.title or PurePath(source.download_name).stem


def _files_stem(ctx, source) -> str:
    """What the job's files are named after: the artwork it makes a version or gallery of (its title as it is
    now, renamed or not), else (a job made through POST /jobs) the photo."""
    job = ctx.job.pk
    artwork = Artwork.objects.filter(models.Q(versions__job=job) | models.Q(styles_job=job)).first()
    return file_stem(artwork.title if artwork is not None else photo_title(source))


def _render(ctx, settings: ArtworkSettings, **overrides):
    (source,) = ctx.inputs
    try:
        return prepare_artwork(ctx.read_input(source), **{**settings.engine_kwargs(), **overrides})
    except ArtworkError as refused:
        raise PermanentJobError(str(refused)) from None


def prepare(ctx) -> None:
    settings = JobSettings.model_validate(ctx.params)
    (source,) = ctx.inputs
    # The studio's check, now that the photo (and so the height when none is given) is known.
    problem = settings.work_area_fit(source_size=_source_size(source)).problem
    if problem:
        raise PermanentJobError(problem)
    ctx.progress(10)
    art = _render(ctx, settings)
    ctx.progress(50)
    stem = (
        f"{_files_stem(ctx, source)}-{get_material(settings.material).name}-"
        f"{art.width_mm:.0f}x{art.height_mm:.0f}mm-{settings.mode}"
    )
    height, width = art.burn.shape
    files = [
        (AssetKind.ARTWORK, "png", art.png, "image/png", f"{stem}.png"),
        (AssetKind.ARTWORK, "gcode", lambda: art.gcode().encode(), "text/plain", f"{stem}.gcode"),
        (AssetKind.ARTWORK, "svg", lambda: art.svg().encode(), "image/svg+xml", f"{stem}.svg"),
        (AssetKind.PREVIEW, "burn-preview", art.simulated_burn_png, "image/png", f"{stem}-preview.png"),
    ]
    made = []
    for step, (kind, role, render, mime, name) in enumerate(files, 1):
        made.append((kind, role, render(), mime, name))
        ctx.progress(50 + 45 * step // len(files))
    # Stored only once all four exist, so a failure half-way leaves no partial set behind.
    for kind, role, data, mime, name in made:
        pixels = {"width": width, "height": height} if mime == "image/png" else {}
        ctx.save_output(kind=kind, role=role, data=data, mime=mime, download_name=name, **pixels)


def styles(ctx) -> None:
    """Each creative style on the user's photo, as a simulated burn on the chosen material."""
    settings = JobSettings.model_validate(ctx.params)
    (source,) = ctx.inputs
    # Same physical size, so marks and lines look as they will; only a large piece is shown at a coarser interval.
    interval = max(settings.line_interval(), settings.width_mm / STYLE_PICTURE_MAX_PX)
    made, stem = [], _files_stem(ctx, source)
    for step, style in enumerate(STYLES, 1):
        art = _render(ctx, settings, mode=style, line_interval_mm=interval)
        buffer = io.BytesIO()
        Image.fromarray(art.simulate()).save(buffer, "JPEG", quality=88)
        height, width = art.burn.shape
        name = f"{stem}-{style}.jpg"
        made.append((style, buffer.getvalue(), name, width, height))
        ctx.progress(95 * step // len(STYLES))
    for style, data, name, width, height in made:
        ctx.save_output(
            kind=AssetKind.PREVIEW,
            role=f"style-{style}",
            data=data,
            mime="image/jpeg",
            download_name=name,
            width=width,
            height=height,
        )


register(
    JobKind(name="engrave.prepare", label="Laser artwork", run=prepare, params=JobSettings, inputs_min=1, inputs_max=1)
)
register(
    JobKind(name="engrave.styles", label="Style gallery", run=styles, params=JobSettings, inputs_min=1, inputs_max=1)
)
