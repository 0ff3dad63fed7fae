"""Data-rights pages (J24–J29, E15). Thin: a form validates, one service in intaglio.privacy.rights acts.

/account/data/          (login) download my data, restrict processing, ask the privacy team, my requests
/account/data/erase/    (login) erase my account, with the password, on its own page
/privacy/request/       (no login) the request form for people who cannot log in: e-mail → one-time code → request
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_POST

from intaglio.ops.middleware import client_ip
from intaglio.privacy import rights
from intaglio.web.rights.forms import AskForm, EraseForm, RequestEmailForm, RequestVerifyForm, RestrictForm
from intaglio.web.rights.presenters import data_page_context

FORM_EMAIL_KEY = "rights_request_email"
FORM_DONE_KEY = "rights_request_done"

# ------------------------------------------------------------------------------------------------- my data page


def _data_page(request, *, ask_form=None, status: int = 200):
    context = {**data_page_context(request.user), "ask_form": ask_form or AskForm()}
    return render(request, "web/rights_data.html", context, status=status)


@login_required
def data_rights(request):
    return _data_page(request)


@login_required
@require_POST
def data_rights_export(request):
    """Builds the ZIP (synchronously, into a temporary file) and streams it as a download."""
    spool = rights.data_export_file(user=request.user)
    name = f"intaglio-data-{timezone.now():%Y%m%d-%H%M}.zip"
    return FileResponse(spool, as_attachment=True, filename=name, content_type="application/zip")


@login_required
@require_POST
def data_rights_restrict(request):
    form = RestrictForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether to restrict processing or lift the restriction.")
        return redirect("data-rights")
    on = form.cleaned_data["restricted"]
    try:
        rights.restriction_set(user=request.user, on=on)
    except rights.RightsError as refusal:
        messages.info(request, refusal.message)
    else:
        if on:
            messages.success(request, "Processing is restricted. No new job will start; everything you stored is kept.")
        else:
            messages.success(request, "The restriction is lifted. You can start new jobs again.")
    return redirect("data-rights")


@login_required
@require_POST
def data_rights_ask(request):
    form = AskForm(request.POST)
    if not form.is_valid():
        return _data_page(request, ask_form=form, status=400)
    data_request = rights.data_request_create(
        kind=form.cleaned_data["kind"],
        email=request.user.email,
        user=request.user,
        channel="self_service",
        details=form.cleaned_data["details"],
        actor=request.user,
    )
    due = date_format(data_request.due_at, "j F Y")
    messages.success(
        request,
        f"Request #{data_request.pk} sent to our privacy team. We answer by {due} at the latest; a confirmation is "
        "on its way to your inbox.",
    )
    return redirect("data-rights")


@login_required
def data_rights_erase(request):
    """GET explains what goes and what stays; POST (password and confirmation) erases at once."""
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rights.erasure_request(user=request.user, password=form.cleaned_data["current_password"])
        except rights.RightsError as refusal:
            form.add_error("current_password", refusal.message)
        else:
            logout(request)
            return redirect("data-rights-erased")
    context = {"form": form, "excepted": rights.excepted_classes()}
    return render(request, "web/rights_erase.html", context, status=400 if form.errors else 200)


def data_rights_erased(request):
    return render(request, "web/rights_erased.html", {"excepted": rights.excepted_classes()})


# ---------------------------------------------------------------------------------------- request form (no login)


def data_request_form(request):
    """Step 1: the account's e-mail address. The next page reads the same whether or not an account uses it."""
    form = RequestEmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            rights.access_code_send(email=email, ip=client_ip(request))
        except rights.RightsThrottled as throttled:
            form.add_error(None, throttled.message)
        else:
            request.session[FORM_EMAIL_KEY] = email
            return redirect("data-request-verify")
    context = {"form": form, "contact": getattr(settings, "PRIVACY_CONTACT_EMAIL", "")}
    return render(request, "web/rights_request_email.html", context, status=400 if form.errors else 200)


def data_request_verify(request):
    """Step 2: the code from the e-mail, the kind of request and its details."""
    email = request.session.get(FORM_EMAIL_KEY)
    if not email:
        return redirect("data-request-form")
    form = RequestVerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data_request = rights.data_request_from_form(
                email=email,
                code=form.cleaned_data["code"],
                kind=form.cleaned_data["kind"],
                details=form.cleaned_data["details"],
                ip=client_ip(request),
            )
        except rights.RightsError as refusal:
            form.add_error("code", refusal.message)
        else:
            request.session.pop(FORM_EMAIL_KEY, None)
            request.session[FORM_DONE_KEY] = {
                "id": data_request.pk,
                "kind": data_request.get_kind_display(),
                "due": data_request.due_at.isoformat(),
            }
            return redirect("data-request-done")
    minutes = int(rights.ACCESS_CODE_TTL.total_seconds() // 60)
    context = {"form": form, "email": email, "minutes": minutes}
    return render(request, "web/rights_request_verify.html", context, status=400 if form.errors else 200)


def data_request_done(request):
    done = request.session.get(FORM_DONE_KEY)
    if not done:
        return redirect("data-request-form")
    due = datetime.fromisoformat(done["due"])
    return render(request, "web/rights_request_done.html", {"done": done, "due": due})
