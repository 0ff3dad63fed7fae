"""The landing page, the dashboard and uploading photos to it."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from intaglio.assets.services import UploadRefused, asset_rename, uploads_store
from intaglio.assets.uploads import check_file_count, check_upload_request
from intaglio.core.errors import Refused, error_body
from intaglio.credits.selectors import credit_balance
from intaglio.engrave.errors import StudioRefused
from intaglio.engrave.selectors import source_photo_get, studio_photos
from intaglio.jobs import services as job_services
from intaglio.web.jobs.presenters import job_list_context
from intaglio.web.shared import fragment_login_required, upload_form_context

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
        **photo_list_context(request.user),
    }
    return render(request, "web/dashboard.html", context)


# The dashboard shows this many of the newest photos; the New artwork page lists them all.
DASHBOARD_PHOTOS = 12


def photo_list_context(user) -> dict:
    photos = studio_photos(owner=user)
    shown = photos[:DASHBOARD_PHOTOS]
    return {
        "photos": shown,
        "more_photos": len(photos) - len(shown),
        # Polled until every shown photo has its thumbnail.
        "photos_pending": any(thumbnail is None for _, thumbnail in shown),
    }


@fragment_login_required
def photo_list_fragment(request):
    """The dashboard's photos alone: refreshed after an upload, polled while thumbnails are being made."""
    return render(request, "web/_photo_list.html", photo_list_context(request.user))


@login_required
@require_POST
def photo_rename(request, photo_id: int):
    try:
        photo = source_photo_get(owner=request.user, asset_id=photo_id)
    except StudioRefused:
        raise Http404("No such photo") from None
    try:
        asset_rename(asset=photo, title=request.POST.get("title", ""))
    except UploadRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"The photo is now called “{photo.title}”.")
    return redirect(reverse("dashboard") + "#photos")


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
