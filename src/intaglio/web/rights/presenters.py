"""The My data page: what is stored, the requests made and their state."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from intaglio.assets.selectors import asset_totals
from intaglio.privacy import rights
from intaglio.privacy.models import DataRequest

REQUESTS_SHOWN = 50

STATUS_TONE = {
    DataRequest.Status.RECEIVED: "wait",
    DataRequest.Status.IN_PROGRESS: "busy",
    DataRequest.Status.COMPLETED: "ok",
    DataRequest.Status.REFUSED: "bad",
}


def data_requests_of(user) -> list[DataRequest]:
    """The person's latest requests, newest first, each with the `tone` of its state badge.

    A read that belongs in privacy/selectors.py; privacy/ is being reworked beside this change, so it waits here."""
    requests = list(DataRequest.objects.filter(user=user).order_by("-received_at", "-pk")[:REQUESTS_SHOWN])
    for data_request in requests:
        data_request.tone = STATUS_TONE.get(data_request.status, "off")
    return requests


def data_page_context(user) -> dict:
    files = asset_totals(owner=user)
    now = timezone.now()
    return {
        "file_count": files["count"],
        "file_bytes": files["bytes"],
        "requests": data_requests_of(user),
        "due_if_today": rights.data_request_due(now),
        "now": now,
        "excepted": rights.excepted_classes(),
        "closure_days": settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS,
    }
