"""Engraving job kinds: a photo → laser-ready files (PNG with DPI, SVG, G-code, preview of the burn), and the style
gallery (each creative style rendered on the photo)."""

from __future__ import annotations

import io
from pathlib import PurePath

import pydantic
from PIL import Image

from intaglio.assets.models import AssetKind
from intaglio.engrave.params import STYLES, ArtworkSettings
from intaglio.imaging.artwork import ArtworkError, get_material
from intaglio.jobs.kinds import JobKind, register
from intaglio.jobs.runner import PermanentJobError

# The gallery shows each style at this width at most, so it stays a quick, cheap job.
STYLE_PREVIEW_MAX_PX = 900


class PrepareParams(ArtworkSettings):
    @pydantic.model_validator(mode="after")
    def _fits_the_machine(self):
        area_w, area_h = self.engine_machine().work_area_mm
        if self.width_mm > area_w or (self.height_mm or 0) > area_h:
            raise ValueError(
                f"{self.width_mm:g} mm is wider than the {self.engine_machine().label} work area "
                f"({area_w:g} × {area_h:g} mm)"
            )
        return self


def _render(ctx, settings: ArtworkSettings, **overrides):
    from intaglio.imaging import prepare_artwork

    (source,) = ctx.inputs
    try:
        return prepare_artwork(ctx.read_input(source), **{**settings.engine_kwargs(), **overrides})
    except ArtworkError as refused:
        raise PermanentJobError(str(refused)) from None


def prepare(ctx) -> None:
    settings = PrepareParams(**ctx.params)
    (source,) = ctx.inputs
    ctx.progress(10)
    art = _render(ctx, settings)
    ctx.progress(50)
    stem = (
        f"{PurePath(source.download_name).stem}-{get_material(settings.material).name}-"
        f"{art.width_mm:.0f}x{art.height_mm:.0f}mm-{settings.mode}"
    )
    height, width = art.burn.shape
    files = [
        (AssetKind.ARTWORK, "png", art.png, "image/png", f"{stem}.png"),
        (AssetKind.ARTWORK, "gcode", lambda: art.gcode().encode(), "text/plain", f"{stem}.gcode"),
        (AssetKind.ARTWORK, "svg", lambda: art.svg().encode(), "image/svg+xml", f"{stem}.svg"),
        (AssetKind.PREVIEW, "burn-preview", art.preview_png, "image/png", f"{stem}-preview.png"),
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
    settings = ArtworkSettings(**ctx.params)
    (source,) = ctx.inputs
    # Same physical size, so marks and lines look as they will; only a large piece is shown at a coarser interval.
    interval = max(settings.line_interval(), settings.width_mm / STYLE_PREVIEW_MAX_PX)
    made = []
    for step, style in enumerate(STYLES, 1):
        art = _render(ctx, settings, mode=style, line_interval_mm=interval)
        buffer = io.BytesIO()
        Image.fromarray(art.simulate()).save(buffer, "JPEG", quality=88)
        height, width = art.burn.shape
        name = f"{PurePath(source.download_name).stem}-{style}.jpg"
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
    JobKind(
        name="engrave.prepare", label="Laser artwork", run=prepare, params=PrepareParams, inputs_min=1, inputs_max=1
    )
)
register(
    JobKind(
        name="engrave.styles", label="Style gallery", run=styles, params=ArtworkSettings, inputs_min=1, inputs_max=1
    )
)
