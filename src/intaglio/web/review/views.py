"""The reviewers' pages (E13). Thin: each checks the role, then reads one selector or calls one service.

Only the file route hands out a customer's picture, and each request of it is an audited staff access (who,
which file, when, why). The queue shows no pictures, so listing items reads no customer file; the item page shows
the picture once, fetched from that route with `Cache-Control: no-store`, so every look is a recorded access."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from intaglio.accounts.roles import Role, role_required
from intaglio.review import selectors, services
from intaglio.review.services import ReviewRefused
from intaglio.web.review.forms import CurationForm, VerdictForm
from intaglio.web.review.presenters import item_page, queue_row


def _no_store(response):
    # The queue changes the moment an owner withdraws consent, and a picture is never kept by the browser.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def review_queue(request):
    role_required(request.user, Role.REVIEWER)
    rows = [queue_row(asset) for asset in selectors.review_queue()[: selectors.QUEUE_PAGE]]
    return _no_store(render(request, "web/review_queue.html", {"rows": rows}))


@login_required
def review_item(request, asset_id: int):
    role_required(request.user, Role.REVIEWER)
    asset = selectors.review_item(asset_id=asset_id)
    if asset is None:
        raise Http404("No such item.")
    form = VerdictForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.verdict_record(reviewer=request.user, asset_id=asset_id, **form.cleaned_data)
        except ReviewRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, "Verdict recorded.")
            return redirect("review-queue")
    return _no_store(render(request, "web/review_item.html", {"page": item_page(asset), "form": form}))


@login_required
@require_POST
def review_curate(request, asset_id: int):
    role_required(request.user, Role.REVIEWER)
    form = CurationForm(request.POST)
    if not form.is_valid():
        raise Http404("No such item.")
    try:
        asset = services.curation_set(reviewer=request.user, asset_id=asset_id, curated=form.cleaned_data["curated"])
    except ReviewRefused as refused:
        if refused.status == 404:
            raise Http404("No such item.") from None
        messages.error(request, refused.message)
    else:
        messages.success(request, "Kept as a curated training asset." if asset.curated else "No longer curated.")
    return redirect("review-item", asset_id=asset_id)


@login_required
@require_GET
def review_file(request, asset_id: int):
    role_required(request.user, Role.REVIEWER)
    try:
        asset, handle = services.review_file_open(reviewer=request.user, asset_id=asset_id)
    except ReviewRefused:
        raise Http404("No such item.") from None
    response = FileResponse(handle, content_type=asset.mime)
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return _no_store(response)
