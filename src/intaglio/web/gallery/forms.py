"""The gallery's forms: publishing a version, reporting an item, a moderator's decision."""

from __future__ import annotations

from django import forms

from intaglio.gallery.models import ModerationAction, ReportReason
from intaglio.gallery.services import NOTE_MAX, STORY_MAX, TITLE_MAX


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked as a file (the service re-encodes and limits them)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class PublishForm(forms.Form):
    """`burn_photos`: the version's burn-report photos the owner may choose (gallery.selectors.version_burn_photos)."""

    def __init__(self, *args, burn_photos=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.burn_photos = list(burn_photos)
        self.fields["report_photos"].choices = [(photo.pk, photo.title or "Photo") for photo in self.burn_photos]
        if not self.burn_photos:
            del self.fields["report_photos"]

    title = forms.CharField(max_length=TITLE_MAX)
    story = forms.CharField(
        max_length=STORY_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional: what it is, what you would do differently.",
    )  # fmt: skip
    photos = MultipleFileField(
        required=False, widget=MultipleFileInput(attrs={"accept": "image/*", "multiple": True}),
        label="Photos of the real burn", help_text="Optional, up to 4. Location and camera details are removed.",
    )  # fmt: skip
    report_photos = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="Photos from your burn reports",
        help_text="Photos you already added under “How did it burn?” for this version.",
    )  # fmt: skip
    include_source = forms.BooleanField(
        required=False, label="Also show the photo I started from",
        help_text="Off by default: only the artwork and its simulated burn are shown.",
    )  # fmt: skip


class ReportForm(forms.Form):
    reason = forms.ChoiceField(choices=ReportReason.choices, widget=forms.RadioSelect)
    details = forms.CharField(
        max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3}),
        label="What a moderator should know", help_text="Optional.",
    )  # fmt: skip


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=ModerationAction.choices)
    note = forms.CharField(
        max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}), label="Note to the owner",
        help_text="The owner reads this; your name is not shown.",
    )  # fmt: skip
