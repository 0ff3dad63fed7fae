"""What the engraving library pages show: adjustments, swatches and tone curves, material cards with their
suggested settings, and the rows of the machine and preset tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from intaglio.engrave.models import MachineProfile, MaterialPreset
from intaglio.feedback.selectors import shared_guidance
from intaglio.imaging.artwork import Machine, Material, linear_to_srgb, machines, materials, srgb_to_linear
from intaglio.web.engrave.presenters import (
    ADJUSTMENT_ORDER,
    CATEGORY_LABELS,
    KIND_LABELS,
    KIND_SHORT,
    REFERENCE_MACHINES,
    TEXTURE_LABELS,
    mode_label,
)


def number_label(value: float) -> str:
    return f"{value:g}"


def adjustment_labels(adjustments: dict) -> list[str]:
    """Adjustments as people read them: {"contrast": 1.1, "sharpen_amount": 0.5, "sharpen_radius_mm": 0.15} →
    ["Contrast 1.1", "Sharpen 0.5 at 0.15 mm"]."""
    labels = []
    for key in sorted(adjustments, key=lambda k: ADJUSTMENT_ORDER.index(k) if k in ADJUSTMENT_ORDER else 99):
        value = adjustments[key]
        if key == "auto_levels_clip":
            labels.append(f"Auto levels (clip {number_label(value)}%)")
        elif key == "brightness":
            labels.append(f"Brightness {value:+g}")
        elif key == "clahe":
            labels.append(f"Local contrast {number_label(value)}")
        elif key == "denoise":
            labels.append(f"Noise reduction {number_label(value)}")
        elif key == "sharpen_amount":
            radius = adjustments.get("sharpen_radius_mm")
            labels.append(
                f"Sharpen {number_label(value)}" + (f" at {number_label(radius)} mm" if radius is not None else "")
            )
        elif key == "sharpen_radius_mm":
            if "sharpen_amount" not in adjustments:
                labels.append(f"Sharpen radius {number_label(value)} mm")
        elif key == "invert":
            if value:
                labels.append("Inverted")
        elif key == "isolate_subject":
            if value:
                labels.append("Subject isolated")
        else:
            labels.append(f"{key.replace('_', ' ').capitalize()} {number_label(value)}")
    return labels


# --- swatches and tone curves -------------------------------------------------------------------------------------

SWATCH_STOPS = 13
# How each texture is suggested on a swatch: SVG feTurbulence (type, base frequency x y, octaves). Drawn in screen
# pixels, so a wide swatch shows more grain rather than stretched grain.
TEXTURE_NOISE = {
    "wood": ("fractalNoise", "0.006 0.22", 3),
    "stone": ("fractalNoise", "0.35", 4),
    "leather": ("turbulence", "0.18", 3),
    "paper": ("fractalNoise", "0.9", 2),
    "cork": ("turbulence", "0.28", 2),
    "metal": ("fractalNoise", "0.003 0.9", 2),
    "glass": ("fractalNoise", "0.05", 2),
    "ceramic": ("fractalNoise", "0.04", 2),
}


@dataclass(frozen=True)
class Swatch:
    """A material's colours as SVG fills: the unburned surface, the full burn, and the way between them (by power,
    following the tone curve, mixed in linear light like the preview), with a hint of its texture."""

    unburned: str
    burned: str
    stops: list[tuple[str, str]]  # (offset 0–1, colour)
    dark_surface: bool  # the unburned colour is dark, so text over it is light
    dark_burn: bool  # the same for the burned colour
    noise: tuple[str, str, int] | None  # TEXTURE_NOISE entry
    texture_opacity: str


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(float(c)):02x}" for c in rgb)


def _is_dark(linear_rgb) -> bool:
    # Relative luminance below ~0.18 reads better with white text than with ink.
    return float(np.dot(linear_rgb, [0.2126, 0.7152, 0.0722])) < 0.18


def swatch(material: Material) -> Swatch:
    xs, ys = zip(*material.tone_curve, strict=True)
    power = np.linspace(0.0, 1.0, SWATCH_STOPS)
    amount = np.interp(power, xs, ys)[:, None]
    unburned = srgb_to_linear(np.array(material.unburned_rgb, dtype=np.float32) / 255)
    burned = srgb_to_linear(np.array(material.burned_rgb, dtype=np.float32) / 255)
    colours = linear_to_srgb(unburned * (1 - amount) + burned * amount) * 255
    return Swatch(
        unburned=_hex(material.unburned_rgb),
        burned=_hex(material.burned_rgb),
        stops=[(f"{offset:.3f}", _hex(colour)) for offset, colour in zip(power, colours, strict=True)],
        dark_surface=_is_dark(unburned),
        dark_burn=_is_dark(burned),
        noise=TEXTURE_NOISE.get(material.texture) if material.texture_strength > 0 else None,
        texture_opacity=f"{min(0.6, material.texture_strength * 4):.2f}",
    )


# The tone-curve drawing: a 260 × 200 box holding the plot area, its axes' labels and, under the plot, the colour
# each power gives.
PLOT_LEFT, PLOT_TOP, PLOT_WIDTH, PLOT_HEIGHT = 44, 10, 200, 140


@dataclass(frozen=True)
class CurvePlot:
    points: str  # the polyline
    dots: list[tuple[str, str, str]]  # (x, y, "40% power → 70%")
    xticks: list[tuple[str, str]]  # (x, label)
    yticks: list[tuple[str, str]]  # (y, label)
    left: int = PLOT_LEFT
    top: int = PLOT_TOP
    width: int = PLOT_WIDTH
    height: int = PLOT_HEIGHT

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


def curve_plot(material: Material) -> CurvePlot:
    def x_at(x: float) -> str:
        return f"{PLOT_LEFT + x * PLOT_WIDTH:.1f}"

    def y_at(y: float) -> str:
        return f"{PLOT_TOP + (1 - y) * PLOT_HEIGHT:.1f}"

    ticks = (0, 0.25, 0.5, 0.75, 1)
    return CurvePlot(
        points=" ".join(f"{x_at(x)},{y_at(y)}" for x, y in material.tone_curve),
        dots=[(x_at(x), y_at(y), f"{x:.0%} power → {y:.0%}") for x, y in material.tone_curve],
        xticks=[(x_at(t), f"{t:.0%}") for t in ticks],
        yticks=[(y_at(t), f"{t:.0%}") for t in ticks],
    )


# --- materials ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestionRow:
    """One laser type's suggested settings for a material, on that type's reference machine ("" when unsuitable)."""

    kind: str
    kind_label: str
    machine: Machine | None
    power: str = ""
    watts: str = ""
    speed: str = ""
    passes: int = 0
    energy: str = ""  # power / (speed × line interval): what to keep on a machine of another power

    @property
    def suitable(self) -> bool:
        return bool(self.power)


@dataclass(frozen=True)
class MaterialCard:
    material: Material
    category_label: str
    swatch: Swatch
    kinds: list[tuple[str, bool]]  # (laser type, suitable)
    dpi: int
    adjustments: list[str]
    texture: str

    @property
    def light_marking(self) -> bool:
        return self.material.polarity == "light"


def _texture_label(material: Material) -> str:
    label = TEXTURE_LABELS.get(material.texture, material.texture.capitalize())
    if material.texture == "none" or material.texture_strength <= 0:
        return label
    strength = (
        "faint" if material.texture_strength < 0.03 else "moderate" if material.texture_strength < 0.08 else "strong"
    )
    return f"{label}, {strength}"


def material_card(material: Material) -> MaterialCard:
    return MaterialCard(
        material=material,
        category_label=CATEGORY_LABELS.get(material.category, material.category.capitalize()),
        swatch=swatch(material),
        kinds=[(KIND_SHORT.get(kind, label), kind in material.suggestions) for kind, label in KIND_LABELS.items()],
        dpi=round(25.4 / material.line_interval_mm),
        adjustments=adjustment_labels(material.default_adjustments),
        texture=_texture_label(material),
    )


def suggestion_rows(material: Material) -> list[SuggestionRow]:
    library = machines()
    rows = []
    for kind, label in KIND_LABELS.items():
        machine = library.get(REFERENCE_MACHINES.get(kind, ""))
        suggestion = material.suggestions.get(kind)
        if suggestion is None:
            rows.append(SuggestionRow(kind=kind, kind_label=label, machine=machine))
            continue
        watts = energy = ""
        if machine is not None:
            power_w = machine.power_w * suggestion.power_pct / 100
            watts = f"{power_w:.2g} W" if power_w < 10 else f"{power_w:.0f} W"
            energy = f"{power_w / (suggestion.speed_mm_min / 60 * material.line_interval_mm):.2g} J/mm²"
        rows.append(
            SuggestionRow(
                kind=kind,
                kind_label=label,
                machine=machine,
                power=f"{suggestion.power_pct:g}%",
                watts=watts,
                speed=f"{suggestion.speed_mm_min:,.0f} mm/min",
                passes=suggestion.passes,
                energy=energy,
            )
        )
    return rows


def material_groups() -> list[tuple[str, str, list[MaterialCard]]]:
    """(category, label, cards) in display order, each group sorted by label."""
    by_category: dict[str, list[Material]] = {}
    for material in materials().values():
        by_category.setdefault(material.category, []).append(material)
    order = [c for c in CATEGORY_LABELS if c in by_category] + sorted(set(by_category) - set(CATEGORY_LABELS))
    return [
        (
            category,
            CATEGORY_LABELS.get(category, category.capitalize()),
            [material_card(m) for m in sorted(by_category[category], key=lambda m: m.label.casefold())],
        )
        for category in order
    ]


def material_choices() -> list:
    return [
        (label, [(card.material.name, card.material.label) for card in cards]) for _, label, cards in material_groups()
    ]


def reference_machines() -> list[Machine]:
    library = machines()
    return [library[name] for name in REFERENCE_MACHINES.values() if name in library]


@dataclass(frozen=True)
class PresetRow:
    preset: MaterialPreset
    card: MaterialCard | None  # None if the library no longer has its material
    mode: str
    interval: str
    adjustments: list[str]


def preset_rows(presets) -> list[PresetRow]:
    library = materials()
    return [
        PresetRow(
            preset=preset,
            card=material_card(library[preset.material]) if preset.material in library else None,
            mode=mode_label(preset.mode),
            interval=f"{preset.line_interval_mm:g} mm" if preset.line_interval_mm else "",
            adjustments=adjustment_labels(preset.adjustments),
        )
        for preset in presets
    ]


@dataclass(frozen=True)
class MachineRow:
    """A library machine or one of the user's, with its numbers as the tables show them."""

    label: str
    kind_label: str
    power: str
    spot: str
    interval: str
    dpi: int
    feed: str
    area: str
    s_max: int
    min_power: str
    profile: MachineProfile | None = None


def machine_row(machine: Machine, profile: MachineProfile | None = None) -> MachineRow:
    width, height = machine.work_area_mm
    return MachineRow(
        label=machine.label,
        kind_label=KIND_LABELS.get(machine.kind, machine.kind),
        power=f"{machine.power_w:g} W",
        spot=f"{machine.spot_mm:g} mm",
        interval=f"{machine.line_interval_mm:g} mm",
        dpi=round(25.4 / machine.line_interval_mm),
        feed=f"{machine.max_feed_mm_min:,.0f} mm/min",
        area=f"{width:g} × {height:g} mm",
        s_max=machine.s_max,
        min_power=f"{machine.min_power_pct:g}%",
        profile=profile,
    )


# --- shared guidance ------------------------------------------------------------------------------------------------


def guidance_rows(material: Material) -> list[dict]:
    """What other makers measured on this material, one row per machine kind × mode (only setups at least
    GUIDANCE_MIN_ACCOUNTS accounts measured): their median mark width beside the library's assumption for that
    kind's reference machine, and the power and speed they chose."""
    library = machines()
    rows = []
    for guidance in shared_guidance(material=material.name):
        reference = library.get(REFERENCE_MACHINES.get(guidance.machine_kind, ""))
        rows.append(
            {
                "kind_label": KIND_SHORT.get(guidance.machine_kind, guidance.machine_kind),
                "mode": mode_label(guidance.mode),
                "accounts": guidance.accounts,
                "mark": f"{guidance.mark_diameter_mm:.2f} mm",
                "assumed": f"{reference.spot_mm + material.spread_mm:.2f} mm" if reference else "—",
                "power": f"{guidance.power_pct:g} %" if guidance.power_pct is not None else "—",
                "speed": f"{guidance.speed_mm_min / 1000:g} m/min" if guidance.speed_mm_min else "—",
            }
        )
    return rows
