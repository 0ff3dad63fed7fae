"""The new-test-card form. It reads the choices; whether they make a card (it must fit the machine's work area, the
mode must suit a card) is card_create's call, and its message is shown on the form."""

from __future__ import annotations

from django import forms

from intaglio.imaging.artwork import machines
from intaglio.imaging.calibration import CARD_MODES
from intaglio.web.engrave.presenters import mode_label
from intaglio.web.library.forms import Measure
from intaglio.web.library.presenters import material_choices


class CardForm(forms.Form):
    material = forms.ChoiceField(label="Material")
    machine = forms.ChoiceField(label="Machine")
    mode = forms.ChoiceField(
        label="Dithering mode", help_text="The card measures how this mode's dots burn: use the mode you engrave with."
    )
    line_interval_mm = Measure(
        label="Line interval",
        unit="mm",
        required=False,
        min_value=0.01,
        max_value=0.5,
        help_text="Leave empty for the library's interval for this material and machine.",
    )

    def __init__(self, *args, machine_profiles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["material"].choices = material_choices()
        library = [(m.name, m.label) for m in machines().values()]
        mine = [(f"mine:{p.pk}", p.name) for p in machine_profiles]
        self.fields["machine"].choices = [("Library", library)] + ([("Your machines", mine)] if mine else [])
        self.fields["mode"].choices = [(mode, mode_label(mode)) for mode in CARD_MODES]

    def values(self) -> dict:
        """The form → card_create's values: one of the owner's machines by `machine_profile`."""
        data = self.cleaned_data
        values = {"material": data["material"], "mode": data["mode"]}
        machine = data["machine"]
        if machine.startswith("mine:"):
            values["machine_profile"] = int(machine.removeprefix("mine:"))
        else:
            values["machine"] = machine
        if data.get("line_interval_mm") is not None:
            values["line_interval_mm"] = data["line_interval_mm"]
        return values
