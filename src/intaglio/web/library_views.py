"""The engraving library pages: the library's materials and machines with their suggested settings and preview
colours, and the user's own machine profiles and material presets.

Thin: a page reads the library or one selector, or validates a form and calls one service. What is here besides is
presentation: names people read, swatch colours and the tone-curve drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from intaglio.engrave import selectors, services
from intaglio.engrave.models import LaserKind, MachineProfile, MaterialPreset
from intaglio.engrave.services import StudioRefused
from intaglio.imaging.artwork import machines, materials
from intaglio.imaging.artwork.library import Machine, Material
from intaglio.imaging.artwork.tone import ADJUSTMENT_LIMITS, linear_to_srgb, srgb_to_linear
from intaglio.web.engrave_labels import (
    ADJUSTMENT_ORDER,
    CATEGORY_LABELS,
    KIND_LABELS,
    KIND_SHORT,
    REFERENCE_MACHINES,
    TEXTURE_LABELS,
    mode_choices,
    mode_label,
)


def _number(value: float) -> str:
    return f"{value:g}"


def adjustment_labels(adjustments: dict) -> list[str]:
    """Adjustments as people read them: {"contrast": 1.1, "sharpen_amount": 0.5, "sharpen_radius_mm": 0.15} →
    ["Contrast 1.1", "Sharpen 0.5 at 0.15 mm"]."""
    labels = []
    for key in sorted(adjustments, key=lambda k: ADJUSTMENT_ORDER.index(k) if k in ADJUSTMENT_ORDER else 99):
        value = adjustments[key]
        if key == "auto_levels_clip":
            labels.append(f"Auto levels (clip {_number(value)}%)")
        elif key == "brightness":
            labels.append(f"Brightness {value:+g}")
        elif key == "clahe":
            labels.append(f"Local contrast {_number(value)}")
        elif key == "denoise":
            labels.append(f"Noise reduction {_number(value)}")
        elif key == "sharpen_amount":
            radius = adjustments.get("sharpen_radius_mm")
            labels.append(f"Sharpen {_number(value)}" + (f" at {_number(radius)} mm" if radius is not None else ""))
        elif key == "sharpen_radius_mm":
            if "sharpen_amount" not in adjustments:
                labels.append(f"Sharpen radius {_number(value)} mm")
        elif key == "invert":
            if value:
                labels.append("Inverted")
        elif key == "isolate_subject":
            if value:
                labels.append("Subject isolated")
        else:
            labels.append(f"{key.replace('_', ' ').capitalize()} {_number(value)}")
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


@login_required
def material_list(request):
    return render(request, "web/library_materials.html", {"section": "materials", "groups": material_groups()})


@login_required
def material_detail(request, name: str):
    material = materials().get(name)
    if material is None:
        raise Http404("No such material")
    example = machines().get(REFERENCE_MACHINES["diode"])
    context = {
        "section": "materials",
        "card": material_card(material),
        "curve": curve_plot(material),
        "rows": suggestion_rows(material),
        "reference_machines": reference_machines(),
        "presets": preset_rows(selectors.material_presets(owner=request.user).filter(material=material.name)),
        "example_spot": f"{example.spot_mm:g}" if example else "",
        "example_mark": f"{example.spot_mm + material.spread_mm:g}" if example else "",
    }
    return render(request, "web/library_material.html", context)


# --- machines -----------------------------------------------------------------------------------------------------


class Measure(forms.FloatField):
    """A number with a unit, shown after the input."""

    def __init__(self, *, unit: str = "", attrs: dict | None = None, **kwargs):
        self.unit = unit
        kwargs.setdefault("widget", forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", **(attrs or {})}))
        super().__init__(**kwargs)


class MachineForm(forms.Form):
    """Reads the numbers; whether they make a usable machine is the service's call (its message is shown)."""

    name = forms.CharField(max_length=60, help_text="How the studio lists it, e.g. “Workshop diode”.")
    kind = forms.ChoiceField(label="Laser type", choices=LaserKind.choices)
    power_w = Measure(
        label="Power",
        unit="W",
        help_text="Optical output. Diode modules are often sold by input power: a “40 W” module may give 5–10 W.",
    )
    spot_mm = Measure(label="Spot size", unit="mm", help_text="Diameter of the focused beam on the surface.")
    line_interval_mm = Measure(
        label="Line interval",
        unit="mm",
        required=False,
        help_text="Distance between scan lines. Leave empty to use the spot size.",
    )
    max_feed_mm_min = Measure(
        label="Maximum engraving speed", unit="mm/min", help_text="The fastest the head moves while engraving."
    )
    work_area_w_mm = Measure(label="Work area width", unit="mm")
    work_area_h_mm = Measure(label="Work area height", unit="mm")
    s_max = forms.IntegerField(
        label="S max",
        required=False,
        initial=1000,
        help_text="GRBL <code>$30</code>: the S value for full power. Usually 1000.",
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "numeric"}),
    )
    min_power_pct = Measure(
        label="Minimum marking power",
        unit="%",
        required=False,
        initial=0,
        help_text="The lowest power that still marks, used by grayscale mode. Leave 0 if unsure.",
    )


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


@login_required
def machine_list(request):
    kinds = list(KIND_LABELS)
    library = sorted(machines().values(), key=lambda m: (kinds.index(m.kind) if m.kind in kinds else 9, m.power_w))
    profiles = selectors.machine_profiles(owner=request.user)
    context = {
        "section": "machines",
        "library": [machine_row(machine) for machine in library],
        "profiles": [machine_row(profile.as_machine(), profile) for profile in profiles],
    }
    return render(request, "web/library_machines.html", context)


def _owned_profile(request, profile_id: int) -> MachineProfile:
    profile = selectors.machine_profile_get(owner=request.user, profile_id=profile_id)
    if profile is None:
        raise Http404("No such machine")
    return profile


def _machine_form_page(request, profile: MachineProfile | None):
    initial = {name: getattr(profile, name) for name in services.MACHINE_FIELDS} if profile else None
    form = MachineForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.machine_profile_save(owner=request.user, values=form.cleaned_data, profile=profile)
        except StudioRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, f"Machine “{saved.name}” {'saved' if profile else 'added'}.")
            return redirect("library-machines")
    context = {"section": "machines", "form": form, "profile": profile}
    # A form shown again with its errors is an ordinary page (200), as browsers log any 4xx page as an error.
    return render(request, "web/library_machine_form.html", context)


@login_required
def machine_new(request):
    return _machine_form_page(request, None)


@login_required
def machine_edit(request, profile_id: int):
    return _machine_form_page(request, _owned_profile(request, profile_id))


@login_required
def machine_delete(request, profile_id: int):
    """GET asks for confirmation; POST deletes."""
    profile = _owned_profile(request, profile_id)
    if request.method == "POST":
        name = profile.name
        services.machine_profile_delete(profile=profile)
        messages.success(request, f"Machine “{name}” deleted. Artwork already made with it keeps its settings.")
        return redirect("library-machines")
    return render(request, "web/library_machine_delete.html", {"section": "machines", "profile": profile})


# --- presets ------------------------------------------------------------------------------------------------------

# The adjustments the preset form edits; a preset's other adjustments (set through the API) are kept as they are.
FORM_ADJUSTMENTS = ("contrast", "brightness", "gamma", "sharpen_amount")
FORM_FLAGS = ("invert", "isolate_subject")
ADJUSTMENT_STEP = 0.01


def _adjustment_field(name: str, label: str, help_text: str) -> forms.FloatField:
    low, high = ADJUSTMENT_LIMITS[name]
    return Measure(
        label=label,
        required=False,
        attrs={"min": _number(low), "max": _number(high), "step": _number(ADJUSTMENT_STEP)},
        help_text=f"{_number(low)} to {_number(high)}. {help_text}",
    )


class PresetForm(forms.Form):
    name = forms.CharField(max_length=60, help_text="E.g. “Slate coasters, portraits”.")
    material = forms.ChoiceField(label="Base material")
    mode = forms.ChoiceField(label="Mode", initial="floyd-steinberg")
    line_interval_mm = Measure(
        label="Line interval",
        unit="mm",
        required=False,
        help_text="Leave empty to use the coarser of the material’s and the machine’s.",
    )
    contrast = _adjustment_field("contrast", "Contrast", "1 leaves it as it is.")
    brightness = _adjustment_field("brightness", "Brightness", "0 leaves it as it is.")
    gamma = _adjustment_field("gamma", "Gamma", "Above 1 darkens the mid-tones.")
    sharpen_amount = _adjustment_field("sharpen_amount", "Sharpen", "0 is off.")
    invert = forms.BooleanField(
        label="Invert the picture",
        required=False,
        help_text="Light-marking materials are inverted automatically; tick this only to swap light and dark again.",
    )
    isolate_subject = forms.BooleanField(
        label="Isolate the subject", required=False, help_text="Cut the main subject out onto a clean background."
    )
    notes = forms.CharField(max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["material"].choices = material_choices()
        self.fields["mode"].choices = mode_choices()

    def values(self, preset: MaterialPreset | None) -> dict:
        """What the service takes: empty adjustments fall back to the material's defaults."""
        data = self.cleaned_data
        kept = {
            k: v for k, v in (preset.adjustments if preset else {}).items() if k not in FORM_ADJUSTMENTS + FORM_FLAGS
        }
        adjustments = kept | {k: data[k] for k in FORM_ADJUSTMENTS if data.get(k) is not None}
        adjustments |= {k: True for k in FORM_FLAGS if data.get(k)}
        return {
            "name": data["name"],
            "material": data["material"],
            "mode": data["mode"],
            "line_interval_mm": data.get("line_interval_mm"),
            "adjustments": adjustments,
            "notes": data.get("notes", ""),
        }


def _preset_initial(preset: MaterialPreset) -> dict:
    initial = {
        "name": preset.name,
        "material": preset.material,
        "mode": preset.mode,
        "line_interval_mm": preset.line_interval_mm,
        "notes": preset.notes,
    }
    return initial | {k: v for k, v in preset.adjustments.items() if k in FORM_ADJUSTMENTS + FORM_FLAGS}


@login_required
def preset_list(request):
    rows = preset_rows(selectors.material_presets(owner=request.user))
    return render(request, "web/library_presets.html", {"section": "presets", "rows": rows})


def _owned_preset(request, preset_id: int) -> MaterialPreset:
    preset = selectors.material_preset_get(owner=request.user, preset_id=preset_id)
    if preset is None:
        raise Http404("No such preset")
    return preset


def _preset_form_page(request, preset: MaterialPreset | None):
    if preset is not None:
        initial = _preset_initial(preset)
    else:
        start = request.GET.get("material", "")
        initial = {"material": start if start in materials() else "birch-plywood", "mode": "floyd-steinberg"}
    form = PresetForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.material_preset_save(owner=request.user, values=form.values(preset), preset=preset)
        except StudioRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, f"Preset “{saved.name}” {'saved' if preset else 'added'}.")
            return redirect("library-presets")
    context = {"section": "presets", "form": form, "preset": preset}
    return render(request, "web/library_preset_form.html", context)


@login_required
def preset_new(request):
    return _preset_form_page(request, None)


@login_required
def preset_edit(request, preset_id: int):
    return _preset_form_page(request, _owned_preset(request, preset_id))


@login_required
def preset_delete(request, preset_id: int):
    """GET asks for confirmation; POST deletes."""
    preset = _owned_preset(request, preset_id)
    if request.method == "POST":
        name = preset.name
        services.material_preset_delete(preset=preset)
        messages.success(request, f"Preset “{name}” deleted. Artwork already made with it keeps its settings.")
        return redirect("library-presets")
    return render(request, "web/library_preset_delete.html", {"section": "presets", "preset": preset})
