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
    return settings
