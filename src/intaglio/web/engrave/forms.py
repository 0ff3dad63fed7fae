"""The studio's form → artwork settings (engrave.params.ArtworkSettings, as the services take them)."""

from __future__ import annotations

from intaglio.imaging.artwork import ADJUSTMENT_LIMITS

# Mode-specific settings: form name, parser.
MODE_OPTIONS = {
    "threshold": float,
    "cell_mm": float,
    "lpi": float,
    "angle_deg": float,
    "spacing_mm": float,
    "line_width_mm": float,
    "detail": float,
    "seed": int,
}


# The studio's hidden field naming the adjustments the user moved ("contrast,gamma"); a form without it (no
# script) sends every adjustment it has as set.
ADJUSTED_FIELD = "adjusted"


def adjusted_names(data) -> list[str]:
    """The adjustments the studio form says the user moved, in the order given."""
    return [name for name in data.get(ADJUSTED_FIELD, "").split(",") if name in ADJUSTMENT_LIMITS]


# Laser settings: form name → (LaserIn field, parser). A blank field is unset: its value follows the calibration
# profile or the material's suggestion.
LASER_NUMBERS = {
    "laser_power_pct": ("power_pct", float),
    "laser_speed_mm_min": ("speed_mm_min", float),
    "laser_passes": ("passes", int),
    "laser_overscan_mm": ("overscan_mm", float),
}
LAYOUT_CHOICES = {"layout_mask": "mask", "layout_mask_edge": "mask_edge", "layout_anchor": "anchor"}


def form_number(raw: str | None, parse=float):
    """A number from a form field; text that is not a number is passed on, so validation names the field."""
    if raw is None or not raw.strip():
        return None
    try:
        return parse(raw)
    except ValueError:
        return raw


def settings_from_form(data) -> dict:
    """The studio form → the settings shape the services take (see engrave.params.ArtworkSettings)."""
    settings: dict = {"material": data.get("material", ""), "width_mm": form_number(data.get("width_mm"))}
    machine = data.get("machine", "")
    if machine.startswith("mine:"):
        settings["machine_profile"] = form_number(machine.removeprefix("mine:"), int)
    else:
        settings["machine"] = machine
    for name in ("height_mm", "line_interval_mm"):
        if (value := form_number(data.get(name))) is not None:
            settings[name] = value
    settings["fit"] = data.get("fit") or "crop"
    settings["mode"] = data.get("mode") or "floyd-steinberg"
    adjustments = {name: form_number(data.get(name)) for name in ADJUSTMENT_LIMITS}
    if ADJUSTED_FIELD in data:
        # The studio lists the sliders the user moved; the others show the material's defaults and are left unset,
        # so the material's own defaults apply (and follow a change of material).
        adjustments = {name: adjustments[name] for name in adjusted_names(data) if name in adjustments}
    adjustments = {name: value for name, value in adjustments.items() if value is not None}
    adjustments.update(invert="invert" in data, isolate_subject="isolate_subject" in data)
    settings["adjustments"] = adjustments
    settings["serpentine"] = "serpentine" in data
    # "Use my calibration": a hidden "off" comes before the box, so the last value is the choice; while no
    # calibration matches, the hidden field alone keeps it. A form without either (the API's shape) keeps it on.
    settings["use_calibration"] = data.get("use_calibration", "on") == "on"
    for name, parse in MODE_OPTIONS.items():
        if (value := form_number(data.get(name), parse)) is not None:
            settings[name] = value
    if laser := laser_from_form(data):
        settings["laser"] = laser
    if any(name.startswith("layout_") for name in data):
        settings["layout"] = layout_from_form(data)
    return settings


def laser_from_form(data) -> dict:
    """The laser fields the form sets (engrave.params.LaserIn); blank ones are left out, to be filled."""
    laser = {name: form_number(data.get(field), parse) for field, (name, parse) in LASER_NUMBERS.items()}
    laser = {name: value for name, value in laser.items() if value is not None}
    if data.get("laser_air_assist") in ("on", "off"):  # a select: "", "on" or "off"
        laser["air_assist"] = data["laser_air_assist"] == "on"
    if data.get("laser_scan"):
        laser["scan"] = data["laser_scan"]
    return laser


def layout_from_form(data) -> dict:
    """The layout fields (engrave.params.LayoutIn): `layout_crop` "x,y,w,h" (fractions; blank for the whole
    photo), `layout_rotate_deg`, `layout_mirror` (a checkbox), `layout_mask`, `layout_mask_edge`, `layout_anchor`,
    `layout_offset_x_mm` and `layout_offset_y_mm`."""
    layout: dict = {"mirror": "layout_mirror" in data}
    crop = (data.get("layout_crop") or "").strip()
    if crop:
        layout["crop"] = [form_number(part) for part in crop.split(",")]
    if (turn := form_number(data.get("layout_rotate_deg"), int)) is not None:
        layout["rotate_deg"] = turn
    for field, name in LAYOUT_CHOICES.items():
        if data.get(field):
            layout[name] = data[field]
    offset = [form_number(data.get(f"layout_offset_{axis}_mm")) for axis in "xy"]
    layout["offset_mm"] = [0.0 if value is None else value for value in offset]
    return layout
