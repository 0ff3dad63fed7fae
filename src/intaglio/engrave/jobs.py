"""Engraving job kinds: a photo → laser-ready files (PNG with DPI, SVG, G-code, preview of the burn) as assets."""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal

import pydantic

from intaglio.assets.models import AssetKind
from intaglio.imaging.artwork import MODES, ArtworkError, get_machine, get_material, machines, materials
from intaglio.imaging.artwork.tone import ADJUSTMENT_LIMITS
from intaglio.jobs.kinds import JobKind, register
from intaglio.jobs.runner import PermanentJobError

# The engine's own limits, so a job is refused before it is queued rather than failing in the worker.
AdjustmentParams = pydantic.create_model(
    "AdjustmentParams",
    __config__=pydantic.ConfigDict(extra="forbid"),
    **{
        name: (float | None, pydantic.Field(default=None, ge=low, le=high))
        for name, (low, high) in ADJUSTMENT_LIMITS.items()
    },
    invert=(bool | None, None),
    isolate_subject=(bool | None, None),
)


class PrepareParams(pydantic.BaseModel):
    """What the prepare job needs; unset adjustments fall back to the material's defaults."""

    model_config = pydantic.ConfigDict(extra="forbid")
    material: str
    machine: str
    width_mm: float = pydantic.Field(gt=0, le=2000)
    height_mm: float | None = pydantic.Field(default=None, gt=0, le=2000)
    fit: Literal["crop", "fit", "stretch"] = "crop"
    mode: Literal[MODES] = "floyd-steinberg"  # type: ignore[valid-type]
    dpi: float | None = pydantic.Field(default=None, ge=12.7, le=5080)
    adjustments: AdjustmentParams = AdjustmentParams()
    serpentine: bool = True
    threshold: float = pydantic.Field(default=0.5, ge=0, le=1)
    cell_mm: float | None = pydantic.Field(default=None, gt=0, le=20)
    lpi: float | None = pydantic.Field(default=None, gt=0, le=300)
    angle_deg: float = pydantic.Field(default=45.0, ge=-180, le=180)

    @pydantic.field_validator("material")
    @classmethod
    def _known_material(cls, name: str) -> str:
        if name not in materials():
            raise ValueError(f"unknown material {name!r}; known: {', '.join(sorted(materials()))}")
        return name

    @pydantic.field_validator("machine")
    @classmethod
    def _known_machine(cls, name: str) -> str:
        if name not in machines():
            raise ValueError(f"unknown machine {name!r}; known: {', '.join(sorted(machines()))}")
        return name

    @pydantic.model_validator(mode="after")
    def _fits_the_machine(self):
        area_w, area_h = get_machine(self.machine).work_area_mm
        if self.width_mm > area_w or (self.height_mm or 0) > area_h:
            raise ValueError(
                f"{self.width_mm:g} mm is wider than the {self.machine} work area ({area_w:g} × {area_h:g} mm)"
            )
        return self


def prepare(ctx) -> None:
    from intaglio.imaging import prepare_artwork

    params = PrepareParams(**ctx.params)
    (source,) = ctx.inputs
    ctx.progress(10)
    adjustments = params.adjustments.model_dump(exclude_none=True)
    try:
        art = prepare_artwork(
            ctx.read_input(source),
            material=params.material,
            machine=params.machine,
            width_mm=params.width_mm,
            height_mm=params.height_mm,
            fit=params.fit,
            mode=params.mode,
            dpi=params.dpi,
            serpentine=params.serpentine,
            threshold=params.threshold,
            cell_mm=params.cell_mm,
            lpi=params.lpi,
            angle_deg=params.angle_deg,
            **adjustments,
        )
    except ArtworkError as refused:
        raise PermanentJobError(str(refused)) from None
    ctx.progress(50)
    stem = (
        f"{PurePath(source.download_name).stem}-{get_material(params.material).name}-"
        f"{art.width_mm:.0f}x{art.height_mm:.0f}mm-{params.mode}"
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


register(
    JobKind(
        name="engrave.prepare", label="Laser artwork", run=prepare, params=PrepareParams, inputs_min=1, inputs_max=1
    )
)
