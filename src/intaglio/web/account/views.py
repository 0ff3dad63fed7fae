"""Account pages: signing up and in, confirming the address, resetting the password, and the settings page (e-mail,
password, API tokens, closing the account). Thin: validate with a form, call one service, render or redirect."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from intaglio.accounts import selectors, services
from intaglio.accounts.forms import (
    ApiTokenForm,
    CappedPasswordResetForm,
    ChangePasswordForm,
    CloseAccountForm,
    EmailChangeForm,
    LoginForm,
    ResendVerificationForm,
    SignInLinkForm,
    SignUpForm,
    VerifyingSetPasswordForm,
)
from intaglio.core.access import owned
from intaglio.ops.middleware import client_ip
from intaglio.privacy import rights
from intaglio.web.billing.presenters import billing_summary

NEW_TOKEN_SESSION_KEY = "new_api_token"


SIGNUP_NEXT_SESSION_KEY = "signup_next"


def _safe_next(request) -> str:
    """The `next` page asked for (a query or form field), when it is a page of this site; "" otherwise."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if wanted and safe else ""


def sign_up(request):
    next_page = _safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_page or "dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_sign_up(email=form.cleaned_data["email"], password=form.cleaned_data["password"])
        request.session["signup_email"] = form.cleaned_data["email"]
        # Where the visitor was going (Use this recipe): the confirmation link opened in this browser returns there.
        if next_page:
            request.session[SIGNUP_NEXT_SESSION_KEY] = next_page
        return redirect("signup-done")
    return render(request, "web/signup.html", {"form": form, "next": next_page})


def sign_up_done(request):
    return render(request, "web/signup_done.html", {"email": request.session.get("signup_email")})


def verify_email(request, uidb64: str, token: str):
    user = selectors.user_from_uidb64(uidb64=uidb64)
    if user is not None and user.email_verified and user.is_active:
        messages.info(request, "Your e-mail address is already confirmed.")
        return redirect("dashboard" if request.user == user else "login")
    try:
        if user is None:
            raise services.AccountError("This verification link is invalid or has expired. Ask for a new one below.")
        services.user_verify_email(user=user, token=token)
    except services.AccountError as error:
        messages.error(request, str(error))
        return redirect("verify-email-resend")
    # Following the link proves the address, so it signs the owner in, like a password-reset link.
    next_page = request.session.pop(SIGNUP_NEXT_SESSION_KEY, "")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, "Your e-mail address is confirmed. Welcome to Intaglio.")
    return redirect(next_page or "dashboard")


def resend_verification(request):
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = selectors.user_active_by_email(email=form.cleaned_data["email"])
        if user is not None:
            services.user_send_verification(user=user)
        messages.info(request, "If that address has an unconfirmed account, a new link is on its way.")
        return redirect("login")
    return render(request, "web/resend_verification.html", {"form": form})


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "web/login.html"
    redirect_authenticated_user = True


def sign_in_link(request):
    form = SignInLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.sign_in_link_send(email=form.cleaned_data["email"], ip=client_ip(request))
        messages.info(request, "If that address has an account, a log-in link is on its way. It works once.")
        return redirect("login")
    return render(request, "web/sign_in_link.html", {"form": form})


def sign_in_link_use(request, token: str):
    # Opening the link only shows a button: mail scanners that fetch links must not spend it.
    if request.method != "POST":
        return render(request, "web/sign_in_link_confirm.html")
    try:
        user = services.sign_in_link_use(token=token)
    except services.AccountError as error:
        messages.error(request, str(error))
        return redirect("sign-in-link")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, "You are logged in.")
    return redirect("dashboard")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = CappedPasswordResetForm
    template_name = "web/password_reset.html"
    email_template_name = "accounts/email/password_reset_body.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-done")

    @property
    def extra_email_context(self):
        # Links are built from the configured address, never from the request's Host header.
        return {"base_url": settings.BASE_URL}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = VerifyingSetPasswordForm
    template_name = "web/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")


# --- The settings page ------------------------------------------------------------------------------------


def _settings_page(request, **forms):
    context = {
        "email_form": forms.get("email_form") or EmailChangeForm(),
        "password_form": forms.get("password_form") or ChangePasswordForm(request.user),
        "token_form": forms.get("token_form") or ApiTokenForm(),
        "close_form": forms.get("close_form") or CloseAccountForm(),
        "tokens": selectors.api_token_list(user=request.user),
        "new_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
        "billing": billing_summary(request.user),
    }
    status = 400 if forms else 200
    return render(request, "web/account.html", context, status=status)


@login_required
def account(request):
    return _settings_page(request)


@login_required
@require_POST
def account_email(request):
    form = EmailChangeForm(request.POST)
    if form.is_valid():
        try:
            services.user_request_email_change(
                user=request.user,
                new_email=form.cleaned_data["new_email"],
                password=form.cleaned_data["current_password"],
            )
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Check the new address: we sent it a link to confirm the change.")
            return redirect("account")
    return _settings_page(request, email_form=form)


def account_email_confirm(request, token: str):
    try:
        user = services.user_confirm_email_change(token=token)
    except services.AccountError as error:
        messages.error(request, str(error))
        return redirect("account" if request.user.is_authenticated else "login")
    messages.success(request, f"Your e-mail address is now {user.email}.")
    return redirect("account" if request.user.is_authenticated else "login")


@login_required
@require_POST
def account_password(request):
    form = ChangePasswordForm(request.user, request.POST)
    if form.is_valid():
        services.user_change_password(user=request.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, "Password changed. Other devices have been signed out.")
        return redirect("account")
    return _settings_page(request, password_form=form)


@login_required
@require_POST
def account_token_create(request):
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        token, raw = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        # Kept in the server-side session only until the next page view shows it, once.
        request.session[NEW_TOKEN_SESSION_KEY] = {"name": token.name, "secret": raw}
        return redirect("account")
    return _settings_page(request, token_form=form)


@login_required
@require_POST
def account_token_revoke(request, token_id: int):
    token = owned(selectors.api_token_list(user=request.user), owner=request.user, pk=token_id, owner_field="user")
    services.api_token_revoke(user=request.user, token_id=token.pk)
    messages.success(request, f"Token “{token.name}” revoked. Programs using it can no longer connect.")
    return redirect("account")


@login_required
@require_POST
def account_close(request):
    form = CloseAccountForm(request.POST)
    if form.is_valid():
        try:
            rights.user_close(user=request.user, password=form.cleaned_data["current_password"])
        except services.AccountError as error:
            form.add_error("current_password", str(error))
        else:
            logout(request)
            return redirect("account-closed")
    return _settings_page(request, close_form=form)


def account_closed(request):
    return render(request, "web/account_closed.html")
