"""Production forms: the owner's order, the workshop's moves and photos."""

from __future__ import annotations

from django import forms

from intaglio.production.services import NOTE_MAX


class OrderForm(forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX, required=False, label="Note to the workshop",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "E.g. the piece is a 10 cm slate coaster; centre it."}),
        help_text="Optional. About the piece only: shipping is arranged outside the platform, so no address here.",
    )  # fmt: skip


class WorkshopMoveForm(forms.Form):
    action = forms.ChoiceField(choices=[("start", "Start"), ("done", "Mark done")])


class CaptureForm(forms.Form):
    photo = forms.FileField(label="Add a photo", widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
