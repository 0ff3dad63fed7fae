"""Production tests: orders of finished versions (made without running the engine) and the people around them."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from intaglio.accounts.roles import Role
from intaglio.production import services
from intaglio.production.models import Order
from tests.access import make_staff  # noqa: F401 - the tests of this package take it from here
from tests.factories import jpeg_bytes
from tests.gallery import finished_version


def make_worker(**fields):
    return make_staff(Role.FACTORY, **fields)


def capture_upload(name: str = "piece.jpg", color=(90, 60, 40)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(320, 240, color), "image/jpeg")


def assigned_order(owner, worker, *, note: str = "Centre it, please.", state: str = "submitted") -> Order:
    """An order of a finished version of `owner`'s, assigned to `worker` and moved on to `state`."""
    order = services.order_submit(owner=owner, version=finished_version(owner), note=note)
    services.order_assign(order=order, worker=worker, actor=make_staff())
    if state in ("in_production", "captured", "done"):
        order = services.order_start(order=order, worker=worker)
    if state in ("captured", "done"):
        services.capture_store(order=order, worker=worker, upload=capture_upload())
        order.refresh_from_db()
    if state == "done":
        order = services.order_finish(order=order, worker=worker)
    return order
