"""Account forms. Validation lives here; the writes are in services."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.utils import timezone

from intaglio.accounts.emails import account_email_allowed
from intaglio.accounts.models import User, normalize_email
from intaglio.accounts.throttle import (
    LoginThrottled,
    login_attempt_begin,
    login_failure_record,
    login_success_record,
)
from intaglio.ops.middleware import client_ip


class EmailField(forms.EmailField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "E-mail address")
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)
        self.widget.attrs.update(autocomplete="email", inputmode="email", autocapitalize="none", spellcheck="false")

    def clean(self, value):
        return normalize_email(super().clean(value))


def _password_field(label: str, autocomplete: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


class SignUpForm(forms.Form):
    email = EmailField()
    password = _password_field("Password", "new-password", "At least 10 characters; not a common password.")

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            try:
                password_validation.validate_password(password, User(email=cleaned.get("email", "")))
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class ThrottledLoginMixin:
    """Counts each attempt before its password is checked (see accounts.throttle); a refused one is not checked."""

    def clean(self):
        email = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request) if self.request else ""
        try:
            login_attempt_begin(email=email, ip=ip)
        except LoginThrottled as throttled:
            raise forms.ValidationError(str(throttled), code="throttled") from None
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_failure_record(email=email)
            raise
        login_success_record(email=email, ip=ip)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """Django's login form with per-(account, address), per-address and per-account throttling of attempts."""

    username = EmailField(widget=forms.EmailInput(attrs={"autofocus": True}))
    error_messages = {
        "invalid_login": "That e-mail address and password do not match an account.",
        "inactive": "This account is closed.",
        "unverified": "Please confirm your e-mail address first: follow the link we sent you, or ask for a new one.",
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.email_verified:
            raise forms.ValidationError(self.error_messages["unverified"], code="unverified")


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login form, throttled exactly like the site's."""


class CappedPasswordResetForm(PasswordResetForm):
    """Django's reset form; an address that has had its hourly share of account e-mails gets no more, and the
    page says the same either way."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        if account_email_allowed(to=to_email):
            super().send_mail(subject_template_name, email_template_name, context, from_email, to_email, **kwargs)


class SignInLinkForm(forms.Form):
    email = EmailField()


class ResendVerificationForm(forms.Form):
    email = EmailField()


class EmailChangeForm(forms.Form):
    new_email = EmailField(label="New e-mail address")
    current_password = _password_field("Current password", "current-password")


class CloseAccountForm(forms.Form):
    current_password = _password_field("Current password", "current-password")
    confirm = forms.BooleanField(
        label="I understand that closing my account signs me out everywhere and cannot be undone.",
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=80,
        help_text="What will use it, e.g. “LightBurn on the workshop PC”.",
    )


class VerifyingSetPasswordForm(SetPasswordForm):
    """Password reset: following the e-mailed link also proves the address."""

    def save(self, commit=True):
        user = super().save(commit=False)
        if user.email_verified_at is None:
            user.email_verified_at = timezone.now()
        if commit:
            user.save()
        return user


class ChangePasswordForm(PasswordChangeForm):
    """Django's form, without grabbing focus: it sits halfway down the settings page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].widget.attrs.pop("autofocus", None)
        self.fields["old_password"].label = "Current password"
