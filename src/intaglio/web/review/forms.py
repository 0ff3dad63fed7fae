"""The reviewer's forms: a verdict on style, material and settings, and curation."""

from __future__ import annotations

from django import forms

from intaglio.review.services import NOTE_MAX

VALIDITY = [("1", "Valid"), ("0", "Not valid")]


def _validity(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, choices=VALIDITY, coerce=lambda value: value == "1", widget=forms.RadioSelect
    )


class VerdictForm(forms.Form):
    style_valid = _validity("Style")
    material_valid = _validity("Material")
    settings_valid = _validity("Machine settings")
    note = forms.CharField(
        max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}), label="Note",
        help_text="What works or what should change. The owner sees it in their data export, without your name.",
    )  # fmt: skip


class CurationForm(forms.Form):
    curated = forms.TypedChoiceField(choices=VALIDITY, coerce=lambda value: value == "1")
