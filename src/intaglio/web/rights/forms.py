"""The data-rights forms: asking the privacy team, restricting processing, erasing the account, and the request form
for people who cannot log in."""

from __future__ import annotations

from django import forms

from intaglio.accounts.models import normalize_email
from intaglio.privacy.models import DataRequest

# What each kind means, in the words the forms use (short enough for a phone's select box).
KIND_LABELS = {
    DataRequest.Kind.ACCESS: "A copy of my data",
    DataRequest.Kind.RECTIFY: "Correct something you hold about me",
    DataRequest.Kind.ERASE: "Erase my account and data",
    DataRequest.Kind.RESTRICT: "Restrict processing of my data",
    DataRequest.Kind.OBJECT: "Object to a use of my data",
}
ASK_KINDS = [DataRequest.Kind.RECTIFY, DataRequest.Kind.OBJECT, DataRequest.Kind.ACCESS]


def _kind_choices(kinds) -> list[tuple[str, str]]:
    return [(kind.value, KIND_LABELS[kind]) for kind in kinds]


class DetailsField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Details")
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 4000)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4}))
        super().__init__(**kwargs)


class KindDetailsMixin:
    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in (DataRequest.Kind.RECTIFY, DataRequest.Kind.OBJECT) and not cleaned.get("details", "").strip():
            what = "what is wrong and what it should be" if kind == DataRequest.Kind.RECTIFY else "what you object to"
            self.add_error("details", f"Tell us {what}, so we can act on it.")
        return cleaned


class AskForm(KindDetailsMixin, forms.Form):
    kind = forms.ChoiceField(
        label="What would you like?",
        choices=[*_kind_choices(ASK_KINDS[:2]), (DataRequest.Kind.ACCESS.value, "A question about my data")],
    )
    details = DetailsField(help_text="Be as specific as you can. Please do not include passwords.")


class RestrictForm(forms.Form):
    restricted = forms.TypedChoiceField(choices=[("1", "on"), ("0", "off")], coerce=lambda v: v == "1")


class EraseForm(forms.Form):
    current_password = forms.CharField(
        label="Current password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    confirm = forms.BooleanField(
        label="I understand that my account, files and history are deleted now and cannot be restored."
    )


class RequestEmailForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address of the account",
        max_length=254,
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "inputmode": "email", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


class RequestVerifyForm(KindDetailsMixin, forms.Form):
    code = forms.CharField(
        label="Code from the e-mail",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "spellcheck": "false"}
        ),
    )
    kind = forms.ChoiceField(label="Your request", choices=_kind_choices(DataRequest.Kind))
    details = DetailsField(help_text="Anything that helps us act on it. Please do not include passwords.")
