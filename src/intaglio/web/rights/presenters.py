"""The My data page: what is stored, the requests made and their state."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from intaglio.accounts.roles import Role
from intaglio.assets.models import Asset, AssetKind
from intaglio.assets.selectors import asset_totals
from intaglio.core.audit import staff_views
from intaglio.privacy import rights
from intaglio.privacy.models import DataRequest

REQUESTS_SHOWN = 50
STAFF_ACCESSES_SHOWN = 50

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


def _file_label(asset: Asset | None, kind: str) -> str:
    if asset is None:
        return f"{AssetKind(kind).label if kind in AssetKind.values else 'A file'} (since deleted)"
    return asset.title or asset.download_name or AssetKind(asset.kind).label


def staff_accesses_of(user) -> list[dict]:
    """The latest staff accesses to the person's files: who (the staff role and number), which file, when, why."""
    events = list(staff_views(subject_user_id=user.pk)[:STAFF_ACCESSES_SHOWN])
    ids = [int(event.target_id) for event in events if event.target_id.isdigit()]
    files = {asset.pk: asset for asset in Asset.objects.filter(owner=user, pk__in=ids)}
    rows = []
    for event in events:
        asset = files.get(int(event.target_id)) if event.target_id.isdigit() else None
        role = Role(event.actor_role).label if event.actor_role in Role.values else event.actor_role.capitalize()
        rows.append(
            {
                "at": event.at,
                "who": f"{role}, staff no. {event.actor_id}" if event.actor_id else role,
                "file": _file_label(asset, str(event.detail.get("kind", ""))),
                "file_id": event.target_id,
                "reason": event.detail.get("reason", ""),
            }
        )
    return rows


def data_page_context(user) -> dict:
    files = asset_totals(owner=user)
    now = timezone.now()
    return {
        "file_count": files["count"],
        "file_bytes": files["bytes"],
        "requests": data_requests_of(user),
        "staff_accesses": staff_accesses_of(user),
        "due_if_today": rights.data_request_due(now),
        "now": now,
        "excepted": rights.excepted_classes(),
        "closure_days": settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS,
    }
