"""Production pages. Thin: each view reads one selector or validates a form and calls one service.

The workshop's pages ask for the factory role first (anyone else gets 404, as if they did not exist) and then for
an order assigned to the one asking; they show the order's number and settings, never the customer's identity."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from intaglio.accounts.roles import Role, role_required
from intaglio.assets.services import UploadRefused
from intaglio.assets.storage import blob_open
from intaglio.engrave import selectors as engrave_selectors
from intaglio.production import selectors, services
from intaglio.production.services import ProductionRefused
from intaglio.web.production.forms import CaptureForm, OrderForm, WorkshopMoveForm
from intaglio.web.production.presenters import order_view


def _private(response):
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def production_send(request, artwork_id: int, number: int):
    version = engrave_selectors.artwork_version_get(owner=request.user, artwork_id=artwork_id, number=number)
    if version is None:
        raise Http404("No such version")
    form = OrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_submit(owner=request.user, version=version, note=form.cleaned_data["note"])
        except ProductionRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, f"Order {order.number} is with the workshop.")
            return redirect("production-order", order.number)
    context = {"form": form, "version": version, "artwork": version.artwork}
    return render(request, "web/production_send.html", context)


@login_required
@require_GET
def production_orders(request):
    orders = [order_view(order) for order in selectors.orders_owned(owner=request.user)]
    return _private(render(request, "web/production_orders.html", {"orders": orders}))


def _mine(request, number: str):
    order = selectors.order_owned_get(owner=request.user, number=number)
    if order is None:
        raise Http404("No such order among yours.")
    return order


@login_required
@require_GET
def production_order(request, number: str):
    context = {"view": order_view(_mine(request, number)), "photo_days": settings.RETENTION_PRIVATE_FEEDBACK_DAYS}
    return _private(render(request, "web/production_order.html", context))


@login_required
@require_POST
def production_cancel(request, number: str):
    order = _mine(request, number)
    try:
        services.order_cancel(order=order, actor=request.user)
    except ProductionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Order {order.number} is cancelled.")
    return redirect("production-order", order.number)


@login_required
@require_GET
def workshop_queue(request):
    role_required(request.user, Role.FACTORY)
    orders = [order_view(order) for order in selectors.workshop_queue(worker=request.user)]
    return _private(render(request, "web/workshop_queue.html", {"orders": orders}))


def _assigned(request, number: str):
    role_required(request.user, Role.FACTORY)
    order = selectors.workshop_order_get(worker=request.user, number=number)
    if order is None:
        raise Http404("No such order.")
    return order


@login_required
def workshop_order(request, number: str):
    order = _assigned(request, number)
    form = WorkshopMoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        move = services.order_start if form.cleaned_data["action"] == "start" else services.order_finish
        try:
            order = move(order=order, worker=request.user)
        except ProductionRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, f"Order {order.number}: {order.get_state_display().lower()}.")
        return redirect("workshop-order", order.number)
    context = {"view": order_view(order, workshop=True), "capture_form": CaptureForm()}
    return _private(render(request, "web/workshop_order.html", context))


@login_required
@require_GET
def workshop_file(request, number: str, role: str):
    order = _assigned(request, number)
    try:
        asset = services.order_file_open(order=order, worker=request.user, role=role)
        handle = blob_open(asset.storage_key)
    except (ProductionRefused, FileNotFoundError):
        raise Http404("No such file for this order.") from None
    extension = asset.download_name.rsplit(".", 1)[-1]
    response = FileResponse(
        handle, content_type=asset.mime, as_attachment=True, filename=f"{order.number.lower()}-{role}.{extension}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return _private(response)


@login_required
@require_POST
def workshop_capture(request, number: str):
    order = _assigned(request, number)
    form = CaptureForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a photo of the engraved piece.")
        return redirect("workshop-order", order.number)
    try:
        services.capture_store(order=order, worker=request.user, upload=request.FILES["photo"])
    except (ProductionRefused, UploadRefused) as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, "Photo added; the customer sees it on their order.")
    return redirect("workshop-order", order.number)
