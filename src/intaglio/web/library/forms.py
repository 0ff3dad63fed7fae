"""The library's forms: a machine profile and a material preset. They read the numbers; whether they make a usable
machine or preset is the service's call (its message is shown)."""

from __future__ import annotations

from django import forms

from intaglio.engrave.models import LaserKind, MaterialPreset
from intaglio.imaging.artwork import ADJUSTMENT_LIMITS
from intaglio.web.engrave.presenters import mode_choices
from intaglio.web.library.presenters import material_choices, number_label


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


# The adjustments the preset form edits; a preset's other adjustments (set through the API) are kept as they are.
FORM_ADJUSTMENTS = ("contrast", "brightness", "gamma", "sharpen_amount")
FORM_FLAGS = ("invert", "isolate_subject")
ADJUSTMENT_STEP = 0.01


def _adjustment_field(name: str, label: str, help_text: str) -> forms.FloatField:
    low, high = ADJUSTMENT_LIMITS[name]
    return Measure(
        label=label,
        required=False,
        attrs={"min": number_label(low), "max": number_label(high), "step": number_label(ADJUSTMENT_STEP)},
        help_text=f"{number_label(low)} to {number_label(high)}. {help_text}",
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


def preset_initial(preset: MaterialPreset) -> dict:
    initial = {
        "name": preset.name,
        "material": preset.material,
        "mode": preset.mode,
        "line_interval_mm": preset.line_interval_mm,
        "notes": preset.notes,
    }
    return initial | {k: v for k, v in preset.adjustments.items() if k in FORM_ADJUSTMENTS + FORM_FLAGS}
