"""The landing page, the dashboard and uploading photos to it."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from intaglio.assets.services import UploadRefused, uploads_store
from intaglio.assets.uploads import check_file_count, check_upload_request
from intaglio.core.errors import Refused, error_body
from intaglio.credits.selectors import credit_balance
from intaglio.jobs import services as job_services
from intaglio.web.jobs.presenters import job_list_context
from intaglio.web.shared import upload_form_context

UPLOAD_FIELD = "file"


def landing(request):
    return render(request, "web/landing.html")


@login_required
def dashboard(request):
    plan = settings.PLANS[request.user.plan]
    context = {
        "balance": credit_balance(user=request.user),
        "plan_name": request.user.plan.capitalize(),
        "plan": plan,
        **upload_form_context(),
        "upload_max_files": settings.UPLOAD_MAX_FILES,
        **job_list_context(request.user),
    }
    return render(request, "web/dashboard.html", context)


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
    refused: list[tuple[str, Refused]] = []
    try:
        check_upload_request(request)
        files = request.FILES.getlist(UPLOAD_FIELD)
        check_file_count(files)
    except UploadRefused as refusal:
        refused.append(("", refusal))
        files = []
    batch = uploads_store(files=files, store=partial(job_services.upload_photo, owner=request.user))
    created = batch.stored
    refused += [(name, refusal) for _, name, refusal in batch.refused]

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
