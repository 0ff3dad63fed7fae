"""What the studio and the library pages show: the names people read (modes, categories, textures, laser kinds),
the studio form's choices, and each version's row."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass

from django.urls import reverse

from intaglio.assets.models import Asset
from intaglio.credits.selectors import credit_balance
from intaglio.engrave import selectors, services
from intaglio.engrave.errors import StudioRefused
from intaglio.engrave.models import Artwork, ArtworkVersion, LaserKind
from intaglio.engrave.params import STYLES
from intaglio.feedback.selectors import shared_guidance, version_burn_reports
from intaglio.imaging.artwork import (
    ADJUSTMENT_LIMITS,
    ANCHORS,
    CATEGORIES,
    DIFFUSION_KERNELS,
    MODES,
    machines,
    materials,
)
from intaglio.jobs.kinds import get_kind
from intaglio.jobs.models import TERMINAL_STATES
from intaglio.production import selectors as production_selectors
from intaglio.web.engrave.forms import form_number
from intaglio.web.jobs.presenters import STATE_DISPLAY

# Display order of the library's categories; a category added to the library later is shown after these.
CATEGORY_LABELS = {
    "wood": "Wood",
    "leather": "Leather",
    "paper": "Paper and card",
    "stone": "Stone",
    "metal": "Metal",
    "polymer": "Plastics",
    "glass": "Glass",
    "ceramic": "Ceramic",
    "reference": "Calibration",
}
KIND_LABELS = dict(LaserKind.choices)
KIND_SHORT = {"diode": "Diode", "co2": "CO₂", "fibre": "Fibre", "galvo": "Galvo"}
# The machine each kind's suggestions were made for (library.toml's header: "Suggestions are starting points for one
# reference machine per kind").
REFERENCE_MACHINES = {"diode": "diode-10w", "co2": "co2-60w", "fibre": "fibre-30w", "galvo": "galvo"}
TEXTURE_LABELS = {
    "none": "Even, no texture",
    "wood": "Wood grain",
    "stone": "Stone",
    "leather": "Leather grain",
    "paper": "Paper fibre",
    "cork": "Cork granules",
    "metal": "Brushed metal",
    "glass": "Glass",
    "ceramic": "Glaze",
}
MODE_LABELS = {
    "floyd-steinberg": "Floyd–Steinberg",
    "atkinson": "Atkinson",
    "jarvis": "Jarvis–Judice–Ninke",
    "stucki": "Stucki",
    "burkes": "Burkes",
    "sierra3": "Sierra",
    "sierra2": "Sierra two-row",
    "sierra-lite": "Sierra Lite",
    "threshold": "Threshold (no dither)",
    "bayer2": "Ordered dither, 2 × 2",
    "bayer4": "Ordered dither, 4 × 4",
    "bayer8": "Ordered dither, 8 × 8",
    "blue-noise": "Blue-noise dither",
    "grayscale": "Grayscale (variable power)",
    **STYLES,
}
ADJUSTMENT_ORDER = (
    "auto_levels_clip",
    "brightness",
    "contrast",
    "gamma",
    "clahe",
    "denoise",
    "sharpen_amount",
    "sharpen_radius_mm",
    "invert",
    "isolate_subject",
)


def mode_label(mode: str) -> str:
    return MODE_LABELS.get(mode) or mode.replace("-", " ").capitalize()


def mode_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """MODES grouped the way people choose them; a mode added to the engine later lands in the matching group."""
    groups = {"Error diffusion": [], "Ordered and threshold": [], "Creative styles": [], "Grayscale": []}
    for mode in MODES:
        if mode in DIFFUSION_KERNELS:
            group = "Error diffusion"
        elif mode in STYLES:
            group = "Creative styles"
        elif mode == "grayscale":
            group = "Grayscale"
        else:
            group = "Ordered and threshold"
        groups[group].append((mode, mode_label(mode)))
    return [(group, choices) for group, choices in groups.items() if choices]


# --- the studio ---------------------------------------------------------------------------------------------------

ADJUSTMENT_SLIDERS = (
    ("brightness", "Brightness", 0.01, 0.0),
    ("contrast", "Contrast", 0.01, 1.0),
    ("gamma", "Gamma", 0.01, 1.0),
    ("sharpen_amount", "Sharpen", 0.05, 0.0),
    ("clahe", "Local contrast", 0.05, 0.0),
    ("denoise", "Denoise", 0.05, 0.0),
)
# Which mode-specific settings each mode shows (the studio form hides the others).
MODE_OPTION_GROUPS = {
    **{mode: "diffusion" for mode in DIFFUSION_KERNELS},
    "threshold": "threshold",
    "halftone": "halftone angle",
    "hatch": "hatch angle",
    "sketch": "sketch",
    "stipple": "stipple",
}


def slider_defaults() -> dict[str, dict[str, float]]:
    """What each material's adjustment sliders show until the user moves them: the material's default adjustments,
    else the slider's neutral value (the engine's own default when the adjustment is unset)."""
    return {
        name: {slider: material.default_adjustments.get(slider, neutral) for slider, *_, neutral in ADJUSTMENT_SLIDERS}
        for name, material in materials().items()
    }


def material_groups():
    library = materials()
    return [(category.capitalize(), [m for m in library.values() if m.category == category]) for category in CATEGORIES]


def machine_option(value: str, label: str, area: tuple[float, float]) -> dict:
    return {
        "value": value,
        "label": label,
        "area": f"{area[0]:g} × {area[1]:g} mm",
        "area_mm": f"{area[0]:g},{area[1]:g}",
    }


# The Layout group's anchor grid, row by row as the bed is seen from above (the back at the top).
ANCHOR_LABELS = {
    "top-left": "Back left",
    "top": "Back",
    "top-right": "Back right",
    "left": "Left",
    "center": "Centre",
    "right": "Right",
    "bottom-left": "Front left (the origin)",
    "bottom": "Front",
    "bottom-right": "Front right",
}
# The crop picker's photo: the whole upright photo, at most this many pixels on its longer side.
CROP_PICKER_PX = 480


def layout_context(artwork: Artwork, current: dict) -> dict:
    """The Layout group's values (the saved layout, else the engine's defaults), its anchor grid and the whole
    upright photo the crop frame is drawn on (the framed-photo route with no framing, at the photo's own shape)."""
    layout = {"crop": None, "rotate_deg": 0, "mirror": False, "mask": "none", "mask_edge": "hard"}
    layout |= {"anchor": "bottom-left", "offset_mm": [0.0, 0.0], **(current.get("layout") or {})}
    crop = layout["crop"]
    picker = None
    source = artwork.source
    if source is not None and source.width and source.height:
        scale = min(1.0, CROP_PICKER_PX / max(source.width, source.height))
        size = (max(1, round(source.width * scale)), max(1, round(source.height * scale)))
        picker = {
            "url": reverse("artwork-photo", args=[artwork.pk, source.pk, *size, "fit"]),
            "width": size[0],
            "height": size[1],
        }
    return {
        "layout": layout,
        "layout_crop": ",".join(f"{value:.4g}" for value in crop) if crop else "",
        "layout_offset": [f"{value:g}" for value in layout["offset_mm"]],
        "anchors": [(name, ANCHOR_LABELS.get(name, name)) for name in ANCHORS],
        "crop_picker": picker,
    }


def studio_context(request, artwork: Artwork) -> dict:
    """The studio page: the artwork's saved settings in the form, the choices, the prices and the versions."""
    current = {**services.default_settings(), **artwork.settings}
    spec = current.get("machine_spec")
    profiles = list(selectors.machine_profiles(owner=request.user))
    chosen_machine = current.get("machine") or ""
    if spec:  # a version made with one of the user's machines: select it again if it still matches by name
        match = next((p for p in profiles if p.name == spec.get("label")), None)
        chosen_machine = f"mine:{match.pk}" if match else ""
    # Saved settings list unset adjustments as null: those follow the material.
    adjustments = {name: value for name, value in (current.get("adjustments") or {}).items() if value is not None}
    defaults = slider_defaults().get(current["material"], {})
    sliders = [
        {
            "name": name,
            "label": label,
            "min": ADJUSTMENT_LIMITS[name][0],
            "max": ADJUSTMENT_LIMITS[name][1],
            "step": step,
            "value": adjustments.get(name, defaults.get(name, neutral)),
            "default": defaults.get(name, neutral),
            "moved": name in adjustments,
        }
        for name, label, step, neutral in ADJUSTMENT_SLIDERS
    ]
    presets = [
        {
            "id": p.pk,
            "name": p.name,
            "material": p.material,
            "mode": p.mode,
            "line_interval_mm": p.line_interval_mm,
            "adjustments": p.adjustments,
        }
        for p in selectors.material_presets(owner=request.user)
    ]
    return {
        "artwork": artwork,
        "calibration": calibration_note(request.user, {**current, "machine": chosen_machine}),
        "current": current,
        "adjustments": adjustments,
        "sliders": sliders,
        "material_groups": material_groups(),
        "machine_groups": [
            ("Library", [machine_option(m.name, m.label, m.work_area_mm) for m in machines().values()]),
            (
                "Your machines",
                [machine_option(f"mine:{p.pk}", p.name, (p.work_area_w_mm, p.work_area_h_mm)) for p in profiles],
            ),
        ],
        "chosen_machine": chosen_machine,
        "mode_groups": [
            (group, [(mode, label, MODE_OPTION_GROUPS.get(mode, "")) for mode, label in choices])
            for group, choices in mode_choices()
        ],
        "mode_options": MODE_OPTION_GROUPS.get(current.get("mode"), ""),
        "presets": presets,
        "slider_defaults": slider_defaults(),
        "adjusted": ",".join(slider["name"] for slider in sliders if slider["moved"]),
        "prepare_cost": get_kind("engrave.prepare").cost,
        "styles_cost": get_kind("engrave.styles").cost,
        "balance": credit_balance(user=request.user),
        "idempotency_key": uuid.uuid4().hex,
        # The laser values the user set; the others follow their source (the live preview says which).
        "laser": {name: value for name, value in (current.get("laser") or {}).items() if value is not None},
        **layout_context(artwork, current),
        **versions_context(artwork),
    }


@dataclass
class VersionRow:
    version: ArtworkVersion
    state: str
    state_label: str
    tone: str
    thumbnail: Asset | None
    downloads: list[dict]
    summary: str
    burns: list = dataclasses.field(default_factory=list)  # its How did it burn? reports, newest first
    orders: list = dataclasses.field(default_factory=list)  # its workshop orders, with their photos


# The files of a version, in the order the download buttons show them.
DOWNLOADS = (
    ("png", "PNG"),
    ("svg", "SVG"),
    ("gcode", "G-code"),
    ("lbrn2", "LightBurn"),
    ("burn-preview", "Preview"),
)


def version_row(version: ArtworkVersion) -> VersionRow:
    job = version.job
    state = job.state if job else "deleted"
    state_label, tone = STATE_DISPLAY.get(state, ("Files deleted", "off"))
    settings = version.settings
    machine = (settings.get("machine_spec") or {}).get("label") or machines().get(settings.get("machine"), None)
    machine_label = machine if isinstance(machine, str) else (machine.label if machine else "")
    material = materials().get(settings.get("material"))
    laser = settings.get("laser") or {}
    burn_time = ((job.result or {}) if job else {}).get("burn_time") or {}
    summary = " · ".join(
        filter(
            None,
            [
                material.label if material else settings.get("material"),
                machine_label,
                f"{settings.get('width_mm', 0):g} mm wide",
                mode_label(settings.get("mode", "")),
                f"{laser['power_pct']:g} % at {laser['speed_mm_min']:g} mm/min" if laser.get("power_pct") else "",
                f"burns in about {burn_time['text']}" if burn_time.get("text") else "",
            ],
        )
    )
    files = selectors.version_files(version)
    return VersionRow(
        version=version,
        state=state,
        state_label=state_label,
        tone=tone,
        thumbnail=files.get("burn-preview"),
        downloads=[{"label": label, "asset": files[role]} for role, label in DOWNLOADS if role in files],
        summary=summary,
    )


def versions_context(artwork: Artwork) -> dict:
    rows = [version_row(v) for v in artwork.versions.all()]
    reports = version_burn_reports(owner=artwork.owner, version_ids=[row.version.pk for row in rows])
    orders = production_selectors.orders_for_versions(owner=artwork.owner, version_ids=[r.version.pk for r in rows])
    for row in rows:
        row.burns = reports.get(row.version.pk, [])
        row.orders = orders.get(row.version.pk, [])
    return {"versions": rows, "versions_active": any(row.state not in (*TERMINAL_STATES, "deleted") for row in rows)}


def styles_context(request, artwork: Artwork) -> dict:
    job = artwork.styles_job
    pictures = selectors.style_pictures(job) if job and job.state == "succeeded" else {}
    state_label, tone = STATE_DISPLAY.get(job.state, (job.state, "off")) if job else ("", "off")
    return {
        "artwork": artwork,
        "job": job,
        "job_state_label": state_label,
        "job_tone": tone,
        "running": job is not None and job.state not in TERMINAL_STATES,
        "styles": [{"name": name, "label": label, "picture": pictures.get(name)} for name, label in STYLES.items()],
        "cost": get_kind("engrave.styles").cost,
        "balance": credit_balance(user=request.user),
    }


# --- calibration in the studio --------------------------------------------------------------------------------------


def calibration_note(owner, values: dict) -> dict:
    """What the studio says about calibration for the form's material, machine, mode and interval: the matching
    calibration (with the "use my calibration" choice), or a card to burn and, when other makers measured this
    setup, their guidance to start from.

    Parameters
    ----------
    owner : User
    values : dict
        The studio form's values (a machine as "mine:<id>" or a library name), or the artwork's saved settings.
    """
    use = values.get("use_calibration", True)
    use = use == "on" if isinstance(use, str) else bool(use)
    raw = {key: values.get(key) for key in ("material", "mode", "line_interval_mm", "machine_spec") if values.get(key)}
    machine = values.get("machine") or ""
    if machine.startswith("mine:"):
        raw["machine_profile"] = form_number(machine.removeprefix("mine:"), int)
        raw.pop("machine_spec", None)
    elif machine:
        raw["machine"] = machine
        raw.pop("machine_spec", None)
    raw.update(width_mm=100.0, use_calibration=True)  # the size does not choose the calibration
    try:
        clean = services.settings_validate(raw, owner=owner)
    except StudioRefused:
        return {"use": use}
    note = {"use": use, "calibration": clean.calibration, "material": clean.material, "machine": machine}
    if clean.calibration is None:
        kind = clean.engine_machine().kind
        guidance = shared_guidance(material=clean.material, machine_kind=kind, mode=clean.mode)
        note.update(
            mode=clean.mode,
            line_interval_mm=clean.line_interval(),
            guidance=guidance[0] if guidance else None,
            card_query=f"material={clean.material}&machine={machine}&mode={clean.mode}",
        )
    return note
