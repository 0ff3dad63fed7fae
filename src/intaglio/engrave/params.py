"""Artwork settings: the one validated shape shared by the studio, the API, the preview and the engrave jobs.

A user's own machine travels as a frozen `machine_spec` (not a profile id), so a job makes the same files even
if the profile is edited or deleted afterwards.
"""

from __future__ import annotations

from typing import Literal

import pydantic

from intaglio.imaging.artwork import MODES, get_machine, get_material, machines, materials
from intaglio.imaging.artwork.library import Machine
from intaglio.imaging.artwork.tone import ADJUSTMENT_LIMITS

# The engine's own limits, so bad settings are refused at the edge rather than failing in the worker.
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

# The creative styles the gallery shows, in order, with the names people know them by.
STYLES = {"sketch": "Line art", "stipple": "Stipple", "hatch": "Hatch engraving", "halftone": "Halftone portrait"}


class MachineSpec(pydantic.BaseModel):
    """A machine that is not in the library (a user's machine profile)."""

    model_config = pydantic.ConfigDict(extra="forbid")
    label: str = pydantic.Field(min_length=1, max_length=60)
    kind: Literal["diode", "co2", "fibre", "galvo"]
    power_w: float = pydantic.Field(gt=0, le=1000)
    spot_mm: float = pydantic.Field(gt=0, le=2)
    line_interval_mm: float = pydantic.Field(ge=0.01, le=0.5)
    max_feed_mm_min: float = pydantic.Field(gt=0, le=200_000)
    work_area_mm: tuple[float, float]
    s_max: int = pydantic.Field(default=1000, gt=0, le=100_000)
    min_power_pct: float = pydantic.Field(default=0, ge=0, lt=100)

    @pydantic.field_validator("label")
    @classmethod
    def _printable_label(cls, label: str) -> str:
        # It is written into G-code comments and file headers.
        if not label.isprintable():
            raise ValueError("the name may not contain control characters")
        return label

    @pydantic.field_validator("work_area_mm")
    @classmethod
    def _positive_area(cls, area: tuple[float, float]) -> tuple[float, float]:
        if not all(0 < side <= 5000 for side in area):
            raise ValueError("work area sides must be between 0 and 5000 mm")
        return area


class ArtworkSettings(pydantic.BaseModel):
    """Everything that decides the files; unset adjustments fall back to the material's defaults."""

    model_config = pydantic.ConfigDict(extra="forbid")
    material: str = pydantic.Field(description="A material name from GET /engrave/library.")
    machine: str | None = pydantic.Field(default=None, description="A machine name from GET /engrave/library.")
    machine_spec: MachineSpec | None = pydantic.Field(
        default=None, description="Your own machine instead of a library one (set by machine_profile in the studio)."
    )
    width_mm: float = pydantic.Field(gt=0, le=2000)
    height_mm: float | None = pydantic.Field(default=None, gt=0, le=2000)
    fit: Literal["crop", "fit", "stretch"] = "crop"
    mode: Literal[MODES] = "floyd-steinberg"  # type: ignore[valid-type]
    line_interval_mm: float | None = pydantic.Field(
        default=None, ge=0.01, le=0.5, description="Default: the coarser of the material's and the machine's."
    )
    adjustments: AdjustmentParams = AdjustmentParams()
    # Mode-specific settings.
    serpentine: bool = True
    threshold: float = pydantic.Field(default=0.5, ge=0, le=1)
    cell_mm: float | None = pydantic.Field(default=None, gt=0, le=20)
    lpi: float | None = pydantic.Field(default=None, gt=0, le=300)
    angle_deg: float = pydantic.Field(default=45.0, ge=-180, le=180)
    spacing_mm: float | None = pydantic.Field(default=None, gt=0, le=10)
    line_width_mm: float | None = pydantic.Field(default=None, gt=0, le=5)
    detail: float = pydantic.Field(default=0.5, ge=0, le=1)
    seed: int = pydantic.Field(default=0, ge=0, le=2**31)

    @pydantic.field_validator("material")
    @classmethod
    def _known_material(cls, name: str) -> str:
        if name not in materials():
            raise ValueError(f"unknown material {name!r}; known: {', '.join(sorted(materials()))}")
        return name

    @pydantic.field_validator("machine")
    @classmethod
    def _known_machine(cls, name: str | None) -> str | None:
        if name is not None and name not in machines():
            raise ValueError(f"unknown machine {name!r}; known: {', '.join(sorted(machines()))}")
        return name

    @pydantic.model_validator(mode="after")
    def _one_machine(self):
        if (self.machine is None) == (self.machine_spec is None):
            raise ValueError("give either machine (a library name) or machine_spec (your own machine), not both")
        return self

    def engine_machine(self) -> Machine:
        if self.machine_spec is None:
            return get_machine(self.machine)
        spec = self.machine_spec.model_dump()
        spec["work_area_mm"] = tuple(spec["work_area_mm"])
        return Machine(name="custom", **spec)

    def line_interval(self) -> float:
        """The line interval the engine will use: the given one, else the coarser of the material's and machine's."""
        material = get_material(self.material)
        return self.line_interval_mm or max(material.line_interval_mm, self.engine_machine().line_interval_mm)

    def engine_kwargs(self) -> dict:
        """The keyword arguments of intaglio.imaging.prepare_artwork for these settings."""
        kwargs = self.model_dump(exclude={"machine", "machine_spec", "adjustments"})
        kwargs.update(self.adjustments.model_dump(exclude_none=True))
        kwargs["machine"] = self.engine_machine()
        return kwargs

    def fit_problem(self, *, source_width: int, source_height: int) -> str:
        """Why the artwork would not fit the machine's work area ("" when it fits), before running anything."""
        machine = self.engine_machine()
        width = self.width_mm
        height = self.height_mm or width * source_height / max(1, source_width)
        area_w, area_h = machine.work_area_mm
        if width > area_w + 1e-6 or height > area_h + 1e-6:
            return (
                f"{width:.0f} × {height:.0f} mm does not fit the {machine.label}'s "
                f"{area_w:g} × {area_h:g} mm work area."
            )
        return ""
