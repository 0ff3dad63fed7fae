"""Laser settings for a job: power, speed, passes, overscan, air assist and scan direction, and their checks.

A material's suggestion is made for one reference machine per kind (library.toml's header). On another machine of
the same kind the energy per area is kept: power [W] / speed [mm/s] stays constant, the line interval being the
material's. The suggested speed is kept (within the machine's maximum feed) and the power scaled;
a weaker laser that would need more than 100 % runs at full power, slower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from intaglio.imaging.artwork.errors import ArtworkError
from intaglio.imaging.artwork.library import Machine, Material, get_machine, get_material

# The machine each kind's suggestions were made for (library.toml's header).
REFERENCE_MACHINES = {"diode": "diode-10w", "co2": "co2-60w", "fibre": "fibre-30w", "galvo": "galvo"}

# Overscan: the distance to reach the feed at the machine's acceleration (v² / 2a), rounded up to half a millimetre
# and kept within these bounds. Galvo heads (fibre, galvo) need none: their mirrors reach speed almost at once.
MAX_OVERSCAN_MM = 50.0
MAX_PASSES = 100

# Why a kind of laser cannot mark a kind of material, for the message (by (category, kind), then by kind).
_UNSUITABLE = {
    ("glass", "diode"): "a diode's blue light passes through clear glass without marking it",
    ("glass", "fibre"): "a fibre laser's infrared light passes through clear glass without marking it",
    ("glass", "galvo"): "a fibre source's infrared light passes through clear glass without marking it",
    ("metal", "diode"): "a diode cannot mark this metal finish; use a fibre laser or a marking spray",
    ("metal", "co2"): "bare metal reflects a CO2 laser's light; use a fibre laser or a marking spray",
    ("polymer", "diode"): "clear and light plastics let a diode's light through",
    ("stone", "diode"): "a diode's light is too weak to mark this stone evenly",
}
_UNSUITABLE_BY_KIND = {
    "diode": "a diode laser cannot mark it usefully",
    "co2": "a CO2 laser cannot mark it usefully",
    "fibre": "a fibre laser's infrared light is barely absorbed by it, or scorches it unevenly",
    "galvo": "a galvo fibre marker's infrared light is barely absorbed by it, or scorches it unevenly",
}


@dataclass(frozen=True)
class LaserSettings:
    """How the laser runs a job: what LightBurn calls a layer's cut settings.

    power_pct is of the machine's full power (S = s_max × power_pct / 100 for binary artwork; grayscale artwork
    spans the machine's marking range up to it). overscan_mm is the run-up at feed before and after each burned
    segment, with the laser off. air_assist switches the air (M8/M9); bidirectional burns every other row right to
    left.
    """

    power_pct: float
    speed_mm_min: float
    passes: int = 1
    overscan_mm: float = 0.0
    air_assist: bool = False
    bidirectional: bool = True


def laser_problem(material: str | Material, machine: str | Machine) -> str | None:
    """Why a machine cannot mark a material, without making anything.

    Parameters
    ----------
    material, machine : str, Material or Machine
        A library name or a description of one.

    Returns
    -------
    str or None
        A sentence for people naming the material and the kind of laser, or None when the material has settings
        for the machine's kind.
    """
    material, machine = get_material(material), get_machine(machine)
    if machine.kind in material.suggestions:
        return None
    reason = _UNSUITABLE.get((material.category, machine.kind)) or _UNSUITABLE_BY_KIND.get(machine.kind, "")
    kinds = ", ".join(material.suggestions) or "none"
    return (
        f"{material.label} has no suggested settings for a {machine.kind} laser: {reason}. "
        f"Machine kinds it suits: {kinds}."
    )


def overscan_for(speed_mm_min: float, machine: Machine) -> float:
    """The run-up that gets the head to `speed_mm_min` before the first burned pixel, in millimetres.

    Parameters
    ----------
    speed_mm_min : float
        The feed.
    machine : Machine
        Its acceleration (``accel_mm_s2``) and kind.

    Returns
    -------
    float
        v² / (2a) rounded up to 0.5 mm (at most `MAX_OVERSCAN_MM`); 0 for galvo heads (kinds "fibre", "galvo").
    """
    if machine.kind in ("fibre", "galvo"):
        return 0.0
    v = speed_mm_min / 60.0
    distance = v * v / (2.0 * machine.accel_mm_s2)
    return min(MAX_OVERSCAN_MM, math.ceil(distance * 2.0 - 1e-9) / 2.0)


def suggest_laser_settings(material: str | Material, machine: str | Machine) -> LaserSettings:
    """The material's suggested settings, scaled from its reference machine to `machine`.

    Energy per area is kept (power % × watts / speed constant): the suggested speed, clamped to the machine's
    maximum feed, at the power that keeps the energy; where that is over 100 %, full power at a lower speed; where
    it is under the machine's lowest marking power, that power at a higher speed (within the maximum feed).
    Passes are the material's. Overscan is the run-up to speed (`overscan_for`); air assist is on for gantry lasers
    (diode, CO2), whose smoke would otherwise stain the surface and the lens.

    Parameters
    ----------
    material, machine : str, Material or Machine
        A library name or a description of one.

    Returns
    -------
    LaserSettings

    Raises
    ------
    ArtworkError
        When the material has no settings for the machine's kind of laser (see `laser_problem`).
    """

    material, machine = get_material(material), get_machine(machine)
    problem = laser_problem(material, machine)
    if problem:
        raise ArtworkError(problem)
    suggestion = material.suggestions[machine.kind]
    reference = get_machine(REFERENCE_MACHINES[machine.kind])
    energy = suggestion.power_pct * reference.power_w / suggestion.speed_mm_min  # %·W per mm/min
    # At the suggested speed (within the machine's feed), the power that gives the same energy per area.
    speed = min(suggestion.speed_mm_min, machine.max_feed_mm_min)
    power = energy * speed / machine.power_w
    if power > 100:  # a weaker laser: full power, slower
        power, speed = 100.0, 100.0 * machine.power_w / energy
    elif power < machine.min_power_pct:  # a much stronger one: its lowest marking power, faster
        speed = min(machine.max_feed_mm_min, machine.min_power_pct * machine.power_w / energy)
        power = max(machine.min_power_pct, energy * speed / machine.power_w)
    speed = float(math.floor(speed))  # whole mm/min, never faster than the energy allows
    return LaserSettings(
        power_pct=round(power, 1),
        speed_mm_min=speed,
        passes=suggestion.passes,
        overscan_mm=overscan_for(speed, machine),
        air_assist=machine.kind in ("diode", "co2"),
        bidirectional=True,
    )


def check_laser_settings(settings: LaserSettings, machine: str | Machine) -> str | None:
    """Which of the machine's limits the settings exceed.

    Parameters
    ----------
    settings : LaserSettings
        Power, speed, passes and overscan to check.
    machine : str or Machine
        The machine they are for.

    Returns
    -------
    str or None
        A sentence for people naming the setting and its limit, or None when every setting is within them.
    """
    machine = get_machine(machine)
    power, speed, passes, overscan = settings.power_pct, settings.speed_mm_min, settings.passes, settings.overscan_mm
    if not (_finite(power) and 0 < power <= 100):
        return f"Power must be more than 0 % and at most 100 %, not {power!r} %."
    if power < machine.min_power_pct:
        return (
            f"{power:g} % is below the {machine.label}'s lowest marking power ({machine.min_power_pct:g} %): "
            f"it would not mark."
        )
    if not (_finite(speed) and speed > 0):
        return f"Speed must be a positive number of mm/min, not {speed!r}."
    if speed > machine.max_feed_mm_min:
        return (
            f"{speed:g} mm/min is faster than the {machine.label}'s maximum feed ({machine.max_feed_mm_min:g} mm/min)."
        )
    if isinstance(passes, bool) or not isinstance(passes, int) or not 1 <= passes <= MAX_PASSES:
        return f"Passes must be a whole number from 1 to {MAX_PASSES}, not {passes!r}."
    if not (_finite(overscan) and overscan >= 0):
        return f"Overscan must be 0 mm or more, not {overscan!r}."
    limit = min(MAX_OVERSCAN_MM, machine.work_area_mm[0] / 4)
    if overscan > limit:
        return (
            f"An overscan of {overscan:g} mm is more than {limit:g} mm "
            "(a quarter of the work area's width, at most 50 mm)."
        )
    return None


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
