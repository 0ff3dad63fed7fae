"""Artwork settings: the one shape of a piece's settings, shared by the studio's form, the API, the stored JSON of
artworks and versions, the engrave jobs and the engine call (`ArtworkSettings.engine_kwargs`).

Settings are JSON: validated as the API receives them, the types are taken as they are (0 is not false, "80" is not
a number). The studio's form values and stored rows are read with `strict=False` (see services.settings_validate).

A user's own machine travels as a frozen `machine_spec` (not a profile id), so a job makes the same files even
if the profile is edited or deleted afterwards.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Annotated, Literal

import pydantic

from intaglio.imaging.artwork import (
    ADJUSTMENT_LIMITS,
    ANCHORS,
    MACHINE_KINDS,
    MAX_OVERSCAN_MM,
    MAX_PASSES,
    MODES,
    ROTATIONS,
    BurnTime,
    Calibration,
    LaserSettings,
    Layout,
    Machine,
    WorkAreaFit,
    check_fit,
    check_laser_settings,
    check_placement,
    get_machine,
    get_material,
    laser_problem,
    machines,
    materials,
    overscan_for,
    suggest_laser_settings,
)
from intaglio.imaging.calibration import CARD_MODES, check_card

# The engine's own limits, so bad settings are refused at the edge rather than failing in the worker.
AdjustmentParams = pydantic.create_model(
    "AdjustmentParams",
    __config__=pydantic.ConfigDict(extra="forbid", strict=True),
    __doc__="Tone adjustments; each one left unset is the material's default (GET /engrave/library).",
    **{
        name: (float | None, pydantic.Field(default=None, ge=low, le=high))
        for name, (low, high) in ADJUSTMENT_LIMITS.items()
    },
    invert=(bool | None, None),
    isolate_subject=(bool | None, None),
)

# The creative styles the gallery shows, in order, with the names people know them by.
STYLES = {"sketch": "Line art", "stipple": "Stipple", "hatch": "Hatch engraving", "halftone": "Halftone portrait"}


# Text stored as typed: no control characters (PostgreSQL refuses NUL), and at least one visible character.
VISIBLE_TEXT = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


class MachineSpec(pydantic.BaseModel):
    """A machine that is not in the library, described in full; one of your machines travels in settings as this,
    frozen."""

    # The one machine shape outside the engine: MachineProfile.machine_spec() makes one from a profile, and
    # engine_machine() turns it into the engine's Machine.

    model_config = pydantic.ConfigDict(extra="forbid", strict=True)
    # The rule is checked by _printable_label (a message people can act on); the pattern documents it.
    label: str = pydantic.Field(
        min_length=1, max_length=60, description="The machine's name.", json_schema_extra={"pattern": VISIBLE_TEXT}
    )
    kind: Literal[MACHINE_KINDS]  # type: ignore[valid-type]
    power_w: float = pydantic.Field(gt=0, le=1000)
    spot_mm: float = pydantic.Field(gt=0, le=2)
    line_interval_mm: float = pydantic.Field(ge=0.01, le=0.5)
    max_feed_mm_min: float = pydantic.Field(gt=0, le=200_000)
    work_area_mm: tuple[float, float] = pydantic.Field(description="W × H, mm.")
    s_max: int = pydantic.Field(default=1000, gt=0, le=100_000)
    min_power_pct: float = pydantic.Field(default=0, ge=0, lt=100)

    @pydantic.field_validator("label")
    @classmethod
    def _printable_label(cls, label: str) -> str:
        # It is written into G-code comments and file headers (and PostgreSQL's JSON cannot hold NUL).
        if not label.isprintable():
            raise ValueError("the name may not contain control characters")
        if not label.strip():
            raise ValueError("the name needs a visible character")
        return label

    @pydantic.field_validator("work_area_mm", mode="before")
    @classmethod
    def _area_from_json(cls, area):
        # JSON has no tuples: a stored or sent [w, h] array is the pair.
        return tuple(area) if isinstance(area, list) else area

    @pydantic.field_validator("work_area_mm")
    @classmethod
    def _positive_area(cls, area: tuple[float, float]) -> tuple[float, float]:
        if not all(0 < side <= 5000 for side in area):
            raise ValueError("work area sides must be between 0 and 5000 mm")
        return area

    def engine_machine(self) -> Machine:
        """The machine as the engine takes it."""
        return Machine(name="custom", **self.model_dump())


class CalibrationSpec(pydantic.BaseModel):
    """A measured surface, frozen into settings like a machine: the numbers of one of your calibration profiles (GET
    /engrave/calibrations) at the time, so a version keeps making the same files if the profile changes. Its
    power and speed (the card's best cell) prefill the laser settings."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True)
    profile: int | None = pydantic.Field(default=None, description="The calibration profile it came from.")
    label: str = pydantic.Field(default="", max_length=80, description='e.g. "Calibrated 7 Dec from your card".')
    mark_diameter_mm: float = pydantic.Field(ge=0.001, le=2, description="The width of a burned stroke.")
    tone: list[tuple[float, float]] = pydantic.Field(
        default_factory=list, max_length=64, description="[marked area, effective coverage] pairs, each 0–1."
    )
    power_pct: float | None = pydantic.Field(
        default=None,
        gt=0,
        le=100,
        exclude_if=lambda value: value is None,
        description="The power your card's best cell was burned at, %.",
    )
    speed_mm_min: float | None = pydantic.Field(
        default=None,
        gt=0,
        le=200_000,
        exclude_if=lambda value: value is None,
        description="The speed your card's best cell was burned at, mm/min.",
    )

    @pydantic.field_validator("tone", mode="before")
    @classmethod
    def _pairs_from_json(cls, tone):
        return [tuple(pair) if isinstance(pair, list) else pair for pair in tone] if isinstance(tone, list) else tone

    @pydantic.model_validator(mode="after")
    def _engine_takes_it(self):
        self.engine_calibration()  # raises ValueError with the engine's reason
        return self

    def engine_calibration(self) -> Calibration:
        return Calibration(mark_diameter_mm=self.mark_diameter_mm, tone=tuple(self.tone))


SCANS = ("horizontal", "bidirectional")


def _unset(value) -> bool:
    return value is None


class LaserIn(pydantic.BaseModel):
    """How the laser runs the piece (a LightBurn layer's settings). Each one left unset is filled: power and speed
    from your calibration profile for this material, machine, mode and interval when one is used, else from the
    material's suggestion scaled to the machine (energy per area kept); overscan is the run-up to the speed on the
    machine. The live preview (POST /engrave/previews) gives the values and where each came from."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True)
    power_pct: float | None = pydantic.Field(
        default=None, exclude_if=_unset, gt=0, le=100, description="Power, % of the machine's full power (S value)."
    )
    speed_mm_min: float | None = pydantic.Field(
        default=None, exclude_if=_unset, gt=0, le=200_000, description="Speed, mm/min."
    )
    passes: int | None = pydantic.Field(default=None, exclude_if=_unset, ge=1, le=MAX_PASSES)
    overscan_mm: float | None = pydantic.Field(
        default=None,
        exclude_if=_unset,
        ge=0,
        le=MAX_OVERSCAN_MM,
        description="Run-up before and after each burned stretch, laser off, mm (at most a quarter of the work area).",
    )
    air_assist: bool | None = pydantic.Field(
        default=None, exclude_if=_unset, description="Air assist on (M8) for the job."
    )
    scan: Literal[SCANS] | None = pydantic.Field(  # type: ignore[valid-type]
        default=None,
        exclude_if=_unset,
        description='"horizontal": every row left to right; "bidirectional": every other row back.',
    )


# Where a laser setting's value came from, for people.
LASER_SOURCE_LABELS = {
    "you": "you",
    "calibration": "your calibration profile",
    "suggestion": "material suggestion scaled to {machine}",
    "speed": "run-up to this speed on {machine}",
}


@dataclasses.dataclass(frozen=True)
class EffectiveLaser:
    """The laser settings a piece is made with, and where each value came from (a LASER_SOURCE_LABELS key)."""

    settings: LaserSettings
    sources: dict[str, str]
    machine_label: str

    def values(self) -> dict:
        """The values in LaserIn's shape, every field set: what a version's settings store."""
        laser = self.settings
        return {
            "power_pct": laser.power_pct,
            "speed_mm_min": laser.speed_mm_min,
            "passes": laser.passes,
            "overscan_mm": laser.overscan_mm,
            "air_assist": laser.air_assist,
            "scan": "bidirectional" if laser.bidirectional else "horizontal",
        }

    def as_json(self) -> dict:
        """{field: {"value", "source", "label"}} for each LaserIn field; label says the source for people."""
        return {
            name: {
                "value": value,
                "source": self.sources[name],
                "label": LASER_SOURCE_LABELS[self.sources[name]].format(machine=self.machine_label),
            }
            for name, value in self.values().items()
        }


def burn_time_json(burn_time: BurnTime) -> dict:
    """A burn-time estimate as versions, jobs and the live preview give it."""
    return {
        "seconds": round(burn_time.seconds, 1),
        "text": burn_time.text(),
        "burn_s": round(burn_time.burn_s, 1),
        "travel_s": round(burn_time.travel_s, 1),
        "rows": burn_time.rows,
    }


Fraction = Annotated[float, pydantic.Field(ge=0, lt=1)]
Extent = Annotated[float, pydantic.Field(gt=0, le=1)]
Offset = Annotated[float, pydantic.Field(ge=-5000, le=5000)]


class LayoutIn(pydantic.BaseModel):
    """Framing and placement: crop, turn and mirror the photo, shape it with a mask, and place it on the bed."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True)
    crop: tuple[Fraction, Fraction, Extent, Extent] | None = pydantic.Field(
        default=None,
        description="[x, y, width, height] of the upright photo to keep, fractions from its top-left corner "
        "(x + width and y + height at most 1); null keeps it whole.",
    )
    rotate_deg: Literal[ROTATIONS] = pydantic.Field(  # type: ignore[valid-type]
        default=0, description="Turn clockwise, after the crop."
    )
    mirror: bool = pydantic.Field(default=False, description="Flip left to right (to engrave the back of glass).")
    mask: Literal["none", "oval", "rounded"] = pydantic.Field(
        default="none", description="The piece's shape: nothing burns outside it."
    )
    mask_edge: Literal["hard", "soft"] = pydantic.Field(default="hard", description='"soft" fades out over 3 mm.')
    anchor: Literal[ANCHORS] = pydantic.Field(  # type: ignore[valid-type]
        default="bottom-left",
        description="The work area's edge or corner the piece sits against; against the left or right edge, its "
        "overscan run-up stays inside the work area too.",
    )
    offset_mm: tuple[Offset, Offset] = pydantic.Field(
        default=(0.0, 0.0), description="[x, y] from the anchor, mm: X to the right, Y up."
    )

    @pydantic.field_validator("crop", "offset_mm", mode="before")
    @classmethod
    def _tuple_from_json(cls, value):
        # JSON has no tuples: a stored or sent array is the tuple.
        return tuple(value) if isinstance(value, list) else value

    @pydantic.model_validator(mode="after")
    def _engine_takes_it(self):
        problem = self.engine_layout().problem()
        if problem:
            raise ValueError(problem)
        return self

    def engine_layout(self, *, overscan_mm: float = 0.0) -> Layout:
        """The layout as the engine takes it.

        Parameters
        ----------
        overscan_mm : float
            The run-up the head travels left and right of the piece: a piece anchored to the left (right) side is
            moved that much right (left), so the run-up stays on the bed, as a bed's edge is where a head stops.
        """
        x, y = (float(v) for v in self.offset_mm)
        if "left" in self.anchor:
            x += overscan_mm
        elif "right" in self.anchor:
            x -= overscan_mm
        return Layout(
            crop=self.crop,
            rotate_deg=self.rotate_deg,
            mirror=self.mirror,
            mask=None if self.mask == "none" else self.mask,
            mask_edge=self.mask_edge,
            anchor=self.anchor,
            offset_mm=(x, y),
        )


class ArtworkSettings(pydantic.BaseModel):
    """The artwork settings: everything that decides the files (the same shape engrave.prepare jobs take). Name the
    machine by exactly one of `machine`, `machine_profile` or `machine_spec`. Unset adjustments fall back to the
    material's defaults (see GET /engrave/library)."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True)
    material: str = pydantic.Field(description="A material name from GET /engrave/library.")
    machine: str | None = pydantic.Field(default=None, description="A machine name from GET /engrave/library.")
    machine_spec: MachineSpec | None = pydantic.Field(
        default=None, description="A machine described in full, instead of `machine`."
    )
    # Resolved by the studio (services.settings_validate) into a frozen machine_spec, so it is never stored.
    machine_profile: int | None = pydantic.Field(
        default=None,
        ge=1,
        exclude_if=lambda profile: profile is None,
        description="The id of one of your machines (GET /engrave/machines/mine), instead of `machine`. Its numbers "
        "are frozen into the version, so editing or deleting the machine later does not change files already made.",
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
    # The studio fills `calibration` from your matching calibration profile while this is on.
    use_calibration: bool = pydantic.Field(
        default=True, description="Use your calibration profile for this material, machine, mode and interval."
    )
    calibration: CalibrationSpec | None = pydantic.Field(
        default=None,
        exclude_if=lambda spec: spec is None,
        description="A measured surface to prepare for instead of the library's assumption; the studio sets it.",
    )
    laser: LaserIn | None = pydantic.Field(
        default=None,
        exclude_if=lambda laser: laser is None,
        description="Power, speed, passes, overscan, air assist and scan direction; unset ones are filled (see "
        "LaserIn). A version stores every value it was made with.",
    )
    layout: LayoutIn = pydantic.Field(
        default_factory=LayoutIn,
        exclude_if=lambda layout: layout == LayoutIn(),
        description="Crop, turn, mirror, mask and placement on the bed.",
    )

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
        named = [field for field in ("machine", "machine_spec", "machine_profile") if getattr(self, field) is not None]
        if len(named) != 1:
            raise ValueError(
                "give exactly one of machine (a library name), machine_profile (the id of one of your machines) "
                "or machine_spec (a machine described in full)"
            )
        return self

    def engine_machine(self) -> Machine:
        """The machine the engine takes (a machine_profile must have been resolved into machine_spec first)."""
        if self.machine_spec is None:
            return get_machine(self.machine)
        return self.machine_spec.engine_machine()

    def line_interval(self) -> float:
        """The line interval the engine will use: the given one, else the coarser of the material's and machine's."""
        material = get_material(self.material)
        return self.line_interval_mm or max(material.line_interval_mm, self.engine_machine().line_interval_mm)

    def engine_kwargs(self) -> dict:
        """The keyword arguments of intaglio.imaging.artwork.prepare_artwork for these settings."""
        kwargs = self.model_dump(
            exclude={
                "machine",
                "machine_spec",
                "machine_profile",
                "adjustments",
                "use_calibration",
                "calibration",
                "laser",
                "layout",
            }
        )
        kwargs.update(self.adjustments.model_dump(exclude_none=True))
        kwargs["machine"] = self.engine_machine()
        kwargs["layout"] = self.placed_layout()
        if self.calibration is not None and self.use_calibration:
            kwargs["calibration"] = self.calibration.engine_calibration()
        return kwargs

    def placed_layout(self) -> Layout:
        """The engine's layout with the piece placed for its overscan (`LayoutIn.engine_layout`); where the machine
        cannot mark the material there are no laser settings, and the piece sits at the anchor itself."""
        overscan = 0.0 if self.laser_problem() else self.effective_laser().settings.overscan_mm
        return self.layout.engine_layout(overscan_mm=overscan)

    def laser_problem(self) -> str | None:
        """Why the machine cannot mark the material (it has no suggestion for this kind of laser), or None."""
        return laser_problem(self.material, self.engine_machine())

    def effective_laser(self) -> EffectiveLaser:
        """The laser settings the files are made with, and where each value came from.

        A value you set is yours ("you"); an unset power or speed comes from the calibration profile in use when it
        measured one ("calibration"), else from the material's suggestion scaled to the machine ("suggestion"), as
        do passes, air assist and the scan direction; an unset overscan is the run-up to the speed ("speed";
        "suggestion" when the speed is the suggestion's too).

        Raises
        ------
        ArtworkError
            When the material has no suggestion for the machine's kind of laser (see `laser_problem`).
        """
        machine = self.engine_machine()
        suggested = suggest_laser_settings(self.material, machine)
        given = self.laser or LaserIn()
        calibrated = self.calibration if self.use_calibration else None
        values, sources = {}, {}
        for name in ("power_pct", "speed_mm_min"):
            if getattr(given, name) is not None:
                values[name], sources[name] = getattr(given, name), "you"
            elif calibrated is not None and getattr(calibrated, name) is not None:
                values[name], sources[name] = getattr(calibrated, name), "calibration"
            else:
                values[name], sources[name] = getattr(suggested, name), "suggestion"
        for name in ("passes", "air_assist"):
            given_value = getattr(given, name)
            values[name] = getattr(suggested, name) if given_value is None else given_value
            sources[name] = "suggestion" if given_value is None else "you"
        values["bidirectional"] = suggested.bidirectional if given.scan is None else given.scan == "bidirectional"
        sources["scan"] = "suggestion" if given.scan is None else "you"
        if given.overscan_mm is not None:
            values["overscan_mm"], sources["overscan_mm"] = given.overscan_mm, "you"
        elif sources["speed_mm_min"] == "suggestion":
            values["overscan_mm"], sources["overscan_mm"] = suggested.overscan_mm, "suggestion"
        else:
            values["overscan_mm"] = overscan_for(values["speed_mm_min"], machine)
            sources["overscan_mm"] = "speed"
        return EffectiveLaser(settings=LaserSettings(**values), sources=sources, machine_label=machine.label)

    def problems(self, *, source_size: tuple[int, int] | None) -> list[tuple[str, str]]:
        """Everything that stops these settings from making files, as (code, message) pairs, most basic first.

        A size beyond the work area ("does_not_fit"); a material the machine's kind of laser cannot mark
        ("unusable_combination"), or else a laser value beyond the machine's limits ("laser_out_of_range"); a
        placement that takes the piece, with its overscan, past the work area's edge ("outside_work_area", checked
        only for a piece that fits). Each message names the limit.
        """
        found = []
        machine = self.engine_machine()
        size = self.work_area_fit(source_size=source_size)
        if size.problem:
            found.append(("does_not_fit", size.problem))
        problem = self.laser_problem()
        if problem:
            return [*found, ("unusable_combination", problem)]
        laser = self.effective_laser().settings
        problem = check_laser_settings(laser, machine)
        if problem:
            found.append(("laser_out_of_range", problem))
        if not size.problem:
            problem = check_placement(
                self.layout.engine_layout(overscan_mm=laser.overscan_mm),
                width_mm=size.width_mm,
                height_mm=size.height_mm,
                machine=machine,
                overscan_mm=laser.overscan_mm,
            )
            if problem:
                found.append(("outside_work_area", problem))
        return found

    def refusal(self, *, source_size: tuple[int, int] | None) -> tuple[str, str] | None:
        """The first of `problems`, the one a refused prepare names, or None."""
        return next(iter(self.problems(source_size=source_size)), None)

    def mark_diameter_mm(self) -> float:
        """The mark width these settings prepare for: the calibration's, else the machine's spot plus the
        material's spread (the library's assumption)."""
        if self.calibration is not None and self.use_calibration:
            return self.calibration.mark_diameter_mm
        return self.engine_machine().spot_mm + get_material(self.material).spread_mm

    def work_area_fit(self, *, source_size: tuple[int, int] | None = None) -> WorkAreaFit:
        """The size the files will have and whether it fits the machine's work area (imaging's `check_fit`): the
        height follows the aspect of the photo (`source_size`, upright pixels) as the layout frames it, unless
        `height_mm` is given."""
        if source_size is not None:
            source_size = self.layout.engine_layout().framed_size(*source_size)
        return check_fit(
            self.engine_machine(),
            width_mm=self.width_mm,
            height_mm=self.height_mm,
            source_size=source_size,
            line_interval_mm=self.line_interval(),
        )


class JobSettings(ArtworkSettings):
    """ArtworkSettings as the engrave jobs take them (POST /jobs `params`, and what the studio queues): read as
    leniently as job params always were, with the machine frozen (`machine` or `machine_spec`; the studio resolves a
    `machine_profile` before queueing), and refused when the piece cannot fit the machine's work area as far as can
    be told before the photo is read (the job checks again with the photo)."""

    @classmethod
    def model_validate(cls, obj, *, strict: bool | None = None, **kwargs):
        return super().model_validate(obj, strict=bool(strict), **kwargs)

    @pydantic.model_validator(mode="after")
    def _fits_the_machine(self):
        if self.machine_profile is not None:
            raise ValueError("a job names its machine by machine or machine_spec; machine_profile is for the studio")
        problem = self.work_area_fit().problem
        if problem:
            raise ValueError(problem)
        return self


class PrepareSettings(JobSettings):
    """JobSettings for engrave.prepare, which makes files to burn: also refused, before queueing, when the machine's
    kind of laser cannot mark the material or a laser value is beyond the machine's limits (the job checks the
    placement again once the photo is read)."""

    @pydantic.model_validator(mode="after")
    def _burnable(self):
        problem = self.laser_problem() or check_laser_settings(self.effective_laser().settings, self.engine_machine())
        if problem:
            raise ValueError(problem)
        return self


class CardSettings(pydantic.BaseModel):
    """A material test card (engrave.card jobs): a material, a machine (`machine` or `machine_spec`), a dithering
    mode and a line interval. `card_id` is drawn at random when the job is made, so a photo of the burned card finds
    it (docs/card-format.md)."""

    model_config = pydantic.ConfigDict(extra="forbid")
    material: str = pydantic.Field(description="A material name from GET /engrave/library.")
    machine: str | None = pydantic.Field(default=None, description="A machine name from GET /engrave/library.")
    machine_spec: MachineSpec | None = pydantic.Field(
        default=None, description="A machine described in full, instead of `machine`."
    )
    mode: Literal[CARD_MODES] = "floyd-steinberg"  # type: ignore[valid-type]
    line_interval_mm: float | None = pydantic.Field(
        default=None, ge=0.01, le=0.5, description="Default: the coarser of the material's and the machine's."
    )
    card_id: int = pydantic.Field(default_factory=lambda: secrets.randbits(32), ge=0, lt=2**32)
    # Which of your machines `machine_spec` was frozen from, so a reading's profile is filed under it.
    machine_profile: int | None = pydantic.Field(default=None, ge=1, exclude_if=lambda profile: profile is None)
    calibration: CalibrationSpec | None = pydantic.Field(
        default=None,
        exclude_if=lambda spec: spec is None,
        description="Makes a verify card: the wedge is prepared with this measured surface.",
    )

    @pydantic.field_validator("material")
    @classmethod
    def _known_material(cls, name: str) -> str:
        return ArtworkSettings._known_material(name)

    @pydantic.field_validator("machine")
    @classmethod
    def _known_machine(cls, name: str | None) -> str | None:
        return ArtworkSettings._known_machine(name)

    @pydantic.model_validator(mode="after")
    def _one_machine_that_fits(self):
        if (self.machine is None) == (self.machine_spec is None):
            raise ValueError("give exactly one of machine (a library name) or machine_spec (a machine in full)")
        machine, interval = self.engine_machine(), self.line_interval_mm
        problem = check_card(material=self.material, machine=machine, mode=self.mode, line_interval_mm=interval)
        if problem:
            raise ValueError(problem)
        return self

    def engine_machine(self) -> Machine:
        """The machine the card is made for."""
        return get_machine(self.machine) if self.machine_spec is None else self.machine_spec.engine_machine()
