"""Materials and machines: the data the engine needs, loaded from library.toml (pure: no Django).

Conventions:
- Colours are sRGB 0–255 for the preview; the engine converts them to linear light.
- A mark's diameter on the material is the machine's spot plus the material's `spread_mm` (heat spreading, char,
  ablation); that is the dot-gain model the simulation and the compensation both use.
- `tone_curve` maps laser power (0–1 of the machine's range) to how far the surface moves from its unburned
  towards its fully burned colour (0–1). Binary modes fire at the suggested power, which the curve maps to 1.
- `polarity` "light" means burned marks are lighter than the surface (slate, glass, black anodised aluminium):
  the engine then burns where the picture is light, without the user inverting anything.
- Suggestions are for one reference machine per kind (diode-10w, co2-60w, fibre-30w, and a 30 W fibre source
  behind the generic galvo head); for another power, keep the energy per area (power / (speed × interval)).

The loader checks every entry and names the entry and field at fault (`LibraryError`), so a bad edit to
library.toml fails at import of the data, not deep inside a render.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from typing import Literal


@dataclass(frozen=True)
class Suggestion:
    power_pct: float
    speed_mm_min: float
    passes: int = 1


@dataclass(frozen=True)
class Material:
    name: str
    label: str
    category: str
    polarity: Literal["dark", "light"]
    unburned_rgb: tuple[int, int, int]
    burned_rgb: tuple[int, int, int]
    spread_mm: float
    line_interval_mm: float
    tone_curve: tuple[tuple[float, float], ...]
    texture: str = "none"
    texture_strength: float = 0.0
    notes: str = ""
    # Suggested settings per machine kind ("diode", "co2", "fibre", "galvo"); a kind missing here is unsuitable.
    suggestions: dict[str, Suggestion] = field(default_factory=dict)
    # Adjustments applied unless the caller gives its own (e.g. {"contrast": 1.1, "sharpen_amount": 0.5}).
    default_adjustments: dict[str, float | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Machine:
    """A laser as the engine sees it: the one machine shape (library machines and users' own alike)."""

    name: str
    label: str
    kind: Literal["diode", "co2", "fibre", "galvo"]
    power_w: float
    spot_mm: float
    line_interval_mm: float
    max_feed_mm_min: float
    work_area_mm: tuple[float, float]
    s_max: int = 1000  # GRBL $30
    s_min: int = 0  # GRBL $31
    min_power_pct: float = 0.0  # grayscale mode: the lowest power that still marks
    # Head acceleration (GRBL $120/$121), for burn-time estimates and overscan; 0 = the kind's usual value.
    accel_mm_s2: float = 0.0

    def __post_init__(self):
        if not self.accel_mm_s2:
            object.__setattr__(self, "accel_mm_s2", DEFAULT_ACCEL_MM_S2.get(self.kind, 1000.0))


class UnknownName(LookupError):
    def __init__(self, what: str, name: str, known: list[str]):
        super().__init__(f"Unknown {what} {name!r}. Known {what}s: {', '.join(known)}.")
        self.what, self.name, self.known = what, name, known


MACHINE_KINDS = ("diode", "co2", "fibre", "galvo")
# Typical head accelerations by kind, mm/s²: belt-driven diode gantries are tuned gently (1000–2000), CO2 gantries
# stiffer; a fibre or galvo head moves mirrors, so acceleration hardly limits it.
DEFAULT_ACCEL_MM_S2 = {"diode": 1500.0, "co2": 3000.0, "fibre": 500_000.0, "galvo": 500_000.0}
CATEGORIES = ("reference", "wood", "stone", "metal", "polymer", "paper", "leather", "glass", "ceramic")
TEXTURES = ("none", "wood", "stone", "leather", "paper", "cork", "metal", "glass", "ceramic")
# Adjustment keys the engine accepts in `default_adjustments`, with their allowed ranges.
ADJUSTMENT_RANGES: dict[str, tuple[float, float]] = {
    "brightness": (-1.0, 1.0),
    "contrast": (0.2, 3.0),
    "gamma": (0.2, 5.0),
    "sharpen_amount": (0.0, 3.0),
    "sharpen_radius_mm": (0.05, 2.0),
    "clahe": (0.0, 1.0),
    "denoise": (0.0, 1.0),
    "auto_levels_clip": (0.0, 5.0),
}


class LibraryError(ValueError):
    """library.toml holds an entry the engine cannot use; the message names the entry and the field."""


def _check(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise LibraryError(f"library.toml: {where}: {message}")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _known_keys(cls: type, entry: dict, where: str, required: tuple[str, ...]) -> None:
    allowed = {f.name for f in fields(cls)} - {"name"}
    unknown = sorted(set(entry) - allowed)
    _check(not unknown, where, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    missing = [key for key in required if key not in entry]
    _check(not missing, where, f"missing field(s) {', '.join(missing)}")


def _rgb(value: object, where: str) -> tuple[int, int, int]:
    _check(
        isinstance(value, list) and len(value) == 3 and all(isinstance(c, int) and 0 <= c <= 255 for c in value),
        where,
        f"expected three integers 0–255, got {value!r}",
    )
    return tuple(value)  # type: ignore[return-value]


def _tone_curve(value: object, where: str) -> tuple[tuple[float, float], ...]:
    ok = isinstance(value, list) and len(value) >= 2
    ok = ok and all(isinstance(p, list) and len(p) == 2 and all(_number(c) for c in p) for p in value)
    _check(ok, where, f"expected a list of at least two [power, darkness] pairs, got {value!r}")
    curve = tuple((float(x), float(y)) for x, y in value)
    _check(curve[0] == (0.0, 0.0) and curve[-1] == (1.0, 1.0), where, "must start at [0, 0] and end at [1, 1]")
    for (x0, y0), (x1, y1) in zip(curve, curve[1:], strict=False):
        _check(x1 > x0, where, f"power values must strictly increase ({x0} then {x1})")
        _check(y1 >= y0, where, f"darkness must not decrease ({y0} then {y1})")
    return curve


def _material(name: str, raw: dict) -> Material:
    where = f"material {name!r}"
    required = ("label", "category", "polarity", "unburned_rgb", "burned_rgb", "spread_mm", "line_interval_mm")
    _known_keys(Material, raw, where, (*required, "tone_curve"))
    entry = dict(raw)
    _check(entry["category"] in CATEGORIES, where, f"category must be one of {', '.join(CATEGORIES)}")
    _check(entry["polarity"] in ("dark", "light"), where, 'polarity must be "dark" or "light"')
    entry["unburned_rgb"] = _rgb(entry["unburned_rgb"], f"{where} unburned_rgb")
    entry["burned_rgb"] = _rgb(entry["burned_rgb"], f"{where} burned_rgb")
    for key, low, high in (("spread_mm", 0.0, 0.5), ("line_interval_mm", 0.01, 0.5)):
        value = entry[key]
        _check(_number(value) and low <= value <= high, where, f"{key} must be a number in [{low}, {high}]")
    entry["tone_curve"] = _tone_curve(entry["tone_curve"], f"{where} tone_curve")
    _check(entry.get("texture", "none") in TEXTURES, where, f"texture must be one of {', '.join(TEXTURES)}")
    strength = entry.get("texture_strength", 0.0)
    _check(_number(strength) and 0.0 <= strength <= 0.15, where, "texture_strength must be in [0, 0.15]")
    suggestions = {}
    for kind, raw_suggestion in entry.get("suggestions", {}).items():
        at = f"{where} suggestion {kind!r}"
        _check(kind in MACHINE_KINDS, at, f"machine kind must be one of {', '.join(MACHINE_KINDS)}")
        _known_keys(Suggestion, raw_suggestion, at, ("power_pct", "speed_mm_min"))
        suggestion = Suggestion(**raw_suggestion)
        _check(_number(suggestion.power_pct) and 0 < suggestion.power_pct <= 100, at, "power_pct must be in (0, 100]")
        _check(_number(suggestion.speed_mm_min) and suggestion.speed_mm_min > 0, at, "speed_mm_min must be > 0")
        _check(isinstance(suggestion.passes, int) and suggestion.passes >= 1, at, "passes must be an integer >= 1")
        suggestions[kind] = suggestion
    entry["suggestions"] = suggestions
    for key, value in entry.get("default_adjustments", {}).items():
        at = f"{where} default_adjustments"
        _check(key in ADJUSTMENT_RANGES, at, f"unknown key {key!r}; allowed: {', '.join(ADJUSTMENT_RANGES)}")
        low, high = ADJUSTMENT_RANGES[key]
        _check(_number(value) and low <= value <= high, at, f"{key} must be a number in [{low}, {high}]")
    return Material(name=name, **entry)


def _machine(name: str, raw: dict) -> Machine:
    where = f"machine {name!r}"
    required = ("label", "kind", "power_w", "spot_mm", "line_interval_mm", "max_feed_mm_min", "work_area_mm")
    _known_keys(Machine, raw, where, required)
    entry = dict(raw)
    _check(entry["kind"] in MACHINE_KINDS, where, f"kind must be one of {', '.join(MACHINE_KINDS)}")
    for key in ("power_w", "spot_mm", "line_interval_mm", "max_feed_mm_min"):
        _check(_number(entry[key]) and entry[key] > 0, where, f"{key} must be a positive number")
    area = entry["work_area_mm"]
    ok = isinstance(area, list) and len(area) == 2 and all(_number(v) and v > 0 for v in area)
    _check(ok, where, f"work_area_mm must be [width, height] in mm, got {area!r}")
    entry["work_area_mm"] = tuple(area)
    s_min, s_max = entry.get("s_min", 0), entry.get("s_max", 1000)
    ok = isinstance(s_min, int) and isinstance(s_max, int) and 0 <= s_min < s_max
    _check(ok, where, "s_min and s_max must be integers with 0 <= s_min < s_max")
    min_power = entry.get("min_power_pct", 0.0)
    _check(_number(min_power) and 0 <= min_power < 100, where, "min_power_pct must be in [0, 100)")
    accel = entry.get("accel_mm_s2", 0.0)
    _check(_number(accel) and accel >= 0, where, "accel_mm_s2 must be a number >= 0 (0: the kind's usual value)")
    return Machine(name=name, **entry)


def _parse(text: str) -> tuple[dict[str, Material], dict[str, Machine]]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LibraryError(f"library.toml: not valid TOML: {error}") from error
    _check("materials" in raw and "machines" in raw, "top level", "needs [materials.*] and [machines.*] tables")
    materials = {name: _material(name, entry) for name, entry in raw["materials"].items()}
    machines = {name: _machine(name, entry) for name, entry in raw["machines"].items()}
    return materials, machines


@cache
def _library() -> tuple[dict[str, Material], dict[str, Machine]]:
    return _parse(resources.files(__package__).joinpath("library.toml").read_text(encoding="utf-8"))


def materials() -> dict[str, Material]:
    """The library's materials.

    Returns
    -------
    dict of str to Material
        Every material in library.toml by name (a copy: changing it changes nothing else).
    """
    return dict(_library()[0])


def machines() -> dict[str, Machine]:
    """The library's machines.

    Returns
    -------
    dict of str to Machine
        Every machine in library.toml by name (a copy: changing it changes nothing else).
    """
    return dict(_library()[1])


def get_material(name: str | Material) -> Material:
    """One material, by its library name.

    Parameters
    ----------
    name : str or Material
        A library name; a Material is returned as it is.

    Returns
    -------
    Material

    Raises
    ------
    UnknownName
        When the library has no material of that name (the message lists the known ones).
    """
    if isinstance(name, Material):
        return name
    known = _library()[0]
    if name not in known:
        raise UnknownName("material", name, sorted(known))
    return known[name]


def get_machine(name: str | Machine) -> Machine:
    """One machine, by its library name.

    Parameters
    ----------
    name : str or Machine
        A library name; a Machine (such as a user's own, described in full) is returned as it is.

    Returns
    -------
    Machine

    Raises
    ------
    UnknownName
        When the library has no machine of that name (the message lists the known ones).
    """
    if isinstance(name, Machine):
        return name
    known = _library()[1]
    if name not in known:
        raise UnknownName("machine", name, sorted(known))
    return known[name]
