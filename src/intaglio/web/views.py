"""Pages. Thin: validate with a form, call one service, render or redirect."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_POST

from intaglio.accounts import selectors, services
from intaglio.accounts.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    CloseAccountForm,
    EmailChangeForm,
    LoginForm,
    ResendVerificationForm,
    SignUpForm,
    VerifyingSetPasswordForm,
)
from intaglio.accounts.models import User
from intaglio.assets.models import Asset
from intaglio.assets.selectors import storage_used_bytes
from intaglio.assets.services import UploadRefused
from intaglio.assets.uploads import check_file_count, check_upload_request
from intaglio.core.errors import error_body
from intaglio.credits.models import EntryKind, LedgerEntry
from intaglio.credits.selectors import credit_balance, credit_history
from intaglio.imaging.ingest import ACCEPTED_HUMAN
from intaglio.jobs import selectors as job_selectors
from intaglio.jobs import services as job_services
from intaglio.jobs.kinds import UnknownJobKind, get_kind
from intaglio.jobs.models import TERMINAL_STATES, Job, JobState
from intaglio.privacy import rights

NEW_TOKEN_SESSION_KEY = "new_api_token"


def landing(request):
    return render(request, "web/landing.html")


def sign_up(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_sign_up(email=form.cleaned_data["email"], password=form.cleaned_data["password"])
        request.session["signup_email"] = form.cleaned_data["email"]
        return redirect("signup-done")
    return render(request, "web/signup.html", {"form": form})


def sign_up_done(request):
    return render(request, "web/signup_done.html", {"email": request.session.get("signup_email")})


def verify_email(request, uidb64: str, token: str):
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        user = None
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
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, "Your e-mail address is confirmed. Welcome to Intaglio.")
    return redirect("dashboard")


def resend_verification(request):
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = User.objects.filter(email=form.cleaned_data["email"], is_active=True).first()
        if user is not None:
            services.user_send_verification(user=user)
        messages.info(request, "If that address has an unconfirmed account, a new link is on its way.")
        return redirect("login")
    return render(request, "web/resend_verification.html", {"form": form})


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "web/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
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


# --- Studio: uploads, jobs, credits ---------------------------------------------------------------------

DASHBOARD_JOBS = 50
LEDGER_PAGE_SIZE = 50
UPLOAD_FIELD = "file"
# The formats the ingest step accepts, for the file picker (the server still sniffs every file).
UPLOAD_ACCEPT = (
    "image/jpeg,image/png,image/webp,image/heic,image/heif,image/tiff,.jpg,.jpeg,.png,.webp,.heic,.heif,.tif,.tiff"
)

# (label, tone) per state; the tone picks the badge colour.
STATE_DISPLAY = {
    JobState.QUEUED: ("Queued", "wait"),
    JobState.RUNNING: ("Processing", "busy"),
    JobState.WAITING_PROVIDER: ("Waiting for provider", "busy"),
    JobState.SUCCEEDED: ("Ready", "ok"),
    JobState.FAILED: ("Failed", "bad"),
    JobState.CANCELLED: ("Cancelled", "off"),
}
ENTRY_DISPLAY = {
    EntryKind.GRANT: "Monthly allowance",
    EntryKind.PURCHASE: "Credits bought",
    EntryKind.RESERVE: "Held for a job",
    EntryKind.CAPTURE: "Spent on a job",
    EntryKind.RELEASE: "Returned from a job",
    EntryKind.EXPIRY: "Expired",
}
FILE_ROLES = {"web": "Web preview", "thumbnail": "Thumbnail"}


def _kind_label(kind: str) -> str:
    try:
        return get_kind(kind).label
    except UnknownJobKind:
        return kind.replace("_", " ").replace(".", " ").capitalize()


@dataclass
class JobCard:
    """A job as the pages show it."""

    job: Job
    label: str
    state_label: str
    tone: str
    is_terminal: bool
    thumbnail: Asset | None
    preview: Asset | None


def _job_card(job: Job) -> JobCard:
    state_label, tone = STATE_DISPLAY.get(job.state, (job.state, "off"))
    if job.state == JobState.RUNNING and job.cancel_requested:
        state_label = "Stopping"
    return JobCard(
        job=job,
        label=_kind_label(job.kind),
        state_label=state_label,
        tone=tone,
        is_terminal=job.state in TERMINAL_STATES,
        thumbnail=job_selectors.job_output(job, "thumbnail"),
        preview=job_selectors.job_output(job, "web"),
    )


def _owned_job(request, job_id: int) -> Job:
    job = job_selectors.job_get(owner=request.user, job_id=job_id)
    if job is None:
        raise Http404("No such job")
    return job


def _job_list_context(user) -> dict:
    cards = [_job_card(job) for job in job_selectors.job_list(owner=user)[: DASHBOARD_JOBS + 1]]
    return {
        "cards": cards[:DASHBOARD_JOBS],
        "more_jobs": len(cards) > DASHBOARD_JOBS,
        "jobs_active": any(not card.is_terminal for card in cards[:DASHBOARD_JOBS]),
    }


@login_required
def dashboard(request):
    plan = settings.PLANS[request.user.plan]
    context = {
        "balance": credit_balance(user=request.user),
        "plan_name": request.user.plan.capitalize(),
        "plan": plan,
        "upload_max_bytes": settings.UPLOAD_MAX_BYTES,
        "upload_max_label": f"{settings.UPLOAD_MAX_BYTES / (1024 * 1024):.0f} MB",
        "upload_max_files": settings.UPLOAD_MAX_FILES,
        "upload_accept": UPLOAD_ACCEPT,
        "upload_formats": ACCEPTED_HUMAN,
        **_job_list_context(request.user),
    }
    return render(request, "web/dashboard.html", context)


def fragment_login_required(view):
    """For pieces of a page fetched by htmx: a lapsed session sends the whole page to the login form, instead of
    the login form being swapped into the piece."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            # Back to the page that held the piece, not to the piece itself.
            page = urlsplit(request.headers.get("HX-Current-URL", "")).path or reverse("dashboard")
            back_to = urlencode({"next": page})
            response["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?{back_to}"
            return response
        return redirect_to_login(request.get_full_path())

    return wrapper


@fragment_login_required
def job_list_fragment(request):
    """The job list alone, polled by the dashboard while any job is still in progress."""
    return render(request, "web/_job_list.html", _job_list_context(request.user))


@require_POST
def upload(request):
    """Stores each uploaded photo and queues its preview job.

    The studio page sends one file per request and reads the JSON answer; a plain form post (no script) may send
    several and comes back to the dashboard with a message per file.
    """
    wants_json = "application/json" in request.headers.get("Accept", "")
    if not request.user.is_authenticated:
        if wants_json:
            message = "Your session has ended. Log in again, then upload your photos."
            return JsonResponse(error_body(request, code="not_authenticated", message=message), status=401)
        return redirect_to_login(reverse("dashboard"))
    created: list[Job] = []
    refused: list[tuple[str, UploadRefused | job_services.JobRefused]] = []
    try:
        check_upload_request(request)
        files = request.FILES.getlist(UPLOAD_FIELD)
        check_file_count(files)
    except UploadRefused as refusal:
        refused.append(("", refusal))
        files = []
    for photo in files:
        try:
            created.append(job_services.upload_photo(owner=request.user, upload=photo))
        except (UploadRefused, job_services.JobRefused) as refusal:
            refused.append((photo.name, refusal))

    if wants_json:
        body = {
            "jobs": [{"id": job.pk, "url": reverse("job-detail", args=[job.pk])} for job in created],
            "errors": [{"file": name, "code": r.code, "message": r.message} for name, r in refused],
        }
        if created:
            return JsonResponse(body, status=201)
        first = refused[0][1]
        return JsonResponse(
            {**error_body(request, code=first.code, message=first.message), **body}, status=first.status
        )

    if created:
        count = len(created)
        messages.success(request, f"{count} photo{'s' if count != 1 else ''} uploaded. Previews are on their way.")
    for name, refusal in refused:
        messages.error(request, f"{name}: {refusal.message}" if name else refusal.message)
    return redirect("dashboard")


def _file_entry(title: str, asset: Asset) -> dict:
    return {"title": title, "asset": asset, "type": asset.mime.rpartition("/")[2].upper()}


def _job_files(job: Job) -> list[dict]:
    files = [_file_entry("Your photo", asset) for asset in job.inputs.all()]
    files += [_file_entry(FILE_ROLES.get(a.role, a.role.capitalize() or "Result"), a) for a in job.outputs.all()]
    return files


def _job_panel_context(job: Job) -> dict:
    card = _job_card(job)
    inputs = list(job.inputs.all())
    return {
        "card": card,
        "job": job,
        "files": _job_files(job),
        "hero": card.preview or (inputs[0] if inputs else None),
    }


@login_required
def job_detail(request, job_id: int):
    return render(request, "web/job_detail.html", _job_panel_context(_owned_job(request, job_id)))


@fragment_login_required
def job_panel(request, job_id: int):
    """The live part of the job page, polled while the job is in progress."""
    return render(request, "web/_job_panel.html", _job_panel_context(_owned_job(request, job_id)))


@login_required
@require_POST
def job_cancel(request, job_id: int):
    job = job_services.job_cancel(job=_owned_job(request, job_id))
    if job.state == JobState.CANCELLED:
        messages.success(request, "Job cancelled. Any credits it held are back in your balance.")
    elif job.cancel_requested and job.state not in TERMINAL_STATES:
        messages.info(request, "Stopping the job: it ends at its next step.")
    else:
        messages.info(request, "This job had already finished, so there was nothing to cancel.")
    return redirect("job-detail", job_id=job.pk)


@login_required
def job_delete(request, job_id: int):
    """GET asks for confirmation (the page's dialog does the same without leaving it); POST deletes."""
    job = _owned_job(request, job_id)
    if request.method == "POST":
        label = f"{_kind_label(job.kind)} #{job.pk}"
        job_services.job_delete(job=job, actor=request.user)
        messages.success(request, f"{label} deleted, with its photo and previews.")
        return redirect("dashboard")
    return render(request, "web/job_delete.html", {"card": _job_card(job), "job": job})


def _megabytes_label(megabytes: int) -> str:
    return f"{megabytes} MB" if megabytes < 1024 else f"{megabytes / 1024:.3g} GB"


@dataclass
class LedgerRow:
    entry: LedgerEntry
    label: str
    job_label: str


@login_required
def credits_page(request):
    user = request.user
    plan = settings.PLANS[user.plan]
    quota = plan["storage_mb"] * 1024 * 1024
    used = storage_used_bytes(owner=user)
    percent = min(100.0, 100 * used / quota) if quota else 100.0
    page = Paginator(credit_history(user=user), LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        LedgerRow(
            entry=entry,
            label=ENTRY_DISPLAY.get(entry.kind, entry.kind.capitalize()),
            job_label=f"{_kind_label(entry.job.kind)} #{entry.job.pk}" if entry.job else "",
        )
        for entry in page.object_list
    ]
    context = {
        "balance": credit_balance(user=user),
        "plan_name": user.plan.capitalize(),
        "plan": plan,
        "storage_used": used,
        "storage_quota_label": _megabytes_label(plan["storage_mb"]),
        "storage_percent": percent,
        "storage_percent_label": "under 1%" if 0 < percent < 1 else f"{percent:.0f}%",
        "page": page,
        "rows": rows,
    }
    return render(request, "web/credits.html", context)


def _settings_page(request, **forms):
    context = {
        "email_form": forms.get("email_form") or EmailChangeForm(),
        "password_form": forms.get("password_form") or ChangePasswordForm(request.user),
        "token_form": forms.get("token_form") or ApiTokenForm(),
        "close_form": forms.get("close_form") or CloseAccountForm(),
        "tokens": selectors.api_token_list(user=request.user),
        "new_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
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
    token = selectors.api_token_get(user=request.user, token_id=token_id)
    if token is None:
        raise Http404("No such token")
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


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _error_page(request, *, status: int, code: str, title: str, message: str):
    if _wants_json(request):
        return JsonResponse(error_body(request, code=code, message=message), status=status)
    return render(request, "web/error.html", {"title": title, "message": message, "status": status}, status=status)


def csrf_failure(request, reason=""):
    return _error_page(
        request,
        status=403,
        code="csrf_failed",
        title="This form has expired",
        message="Reload the page and try again. (The security token that protects your forms was missing or old.)",
    )


def not_found(request, exception=None):
    return _error_page(
        request,
        status=404,
        code="not_found",
        title="Page not found",
        message="There is nothing at this address.",
    )


def server_error(request):
    return _error_page(
        request,
        status=500,
        code="server_error",
        title="Something went wrong",
        message="We could not complete that request. Nothing you saved was lost; please try again.",
    )
