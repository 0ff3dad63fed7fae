"""What production holds about a person: the orders they sent to the workshop, with their note, and the workshop's
photos of each piece (files of kind factory_capture, exported with the account's files)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from intaglio.core.personal_data import Erasure, PersonalData, Section, Subject, iso, register
from intaglio.production.models import Capture, Order


def _section() -> Section:
    return Section(
        "production_orders",
        "Your orders to our workshop",
        "account_content",
        "Orders: until you close your account. The workshop's photos of a piece: "
        f"{settings.RETENTION_PRIVATE_FEEDBACK_DAYS} days as private feedback, or while you let us learn from photos "
        "of your engravings (E12).",
        "To engrave the versions you sent and show you the result. The workshop sees the order's number, never your "
        "name or e-mail; no postal address is collected.",
    )


def _export(subject: Subject) -> list[dict]:
    if subject.user_id is None:
        return []
    rows = []
    for order in Order.objects.filter(owner_id=subject.user_id).prefetch_related("captures").order_by("pk"):
        rows.append(
            {
                "number": order.number,
                "version_id": order.version_id,
                "state": order.state,
                "cancel_reason": order.cancel_reason,
                "note": order.note,
                "created_at": iso(order.created_at),
                "changed_at": iso(order.changed_at),
                "captures": [{"file_id": c.asset_id, "at": iso(c.created_at)} for c in order.captures.all()],
            }
        )
    return rows


def _erase(erasure: Erasure) -> dict[str, int]:
    """The orders and their photos (files and blobs), except photos under a legal hold and their orders."""
    from intaglio.production.services import captures_delete

    with transaction.atomic():
        captures = captures_delete(Capture.objects.filter(order__owner=erasure.user, asset__legal_hold=False))
        orders = Order.objects.filter(owner=erasure.user, captures__isnull=True).delete()[1].get("production.Order", 0)
    return {"production_orders": orders, "production_captures": captures}


def declare() -> None:
    # Before assets (erase_order 30), which would otherwise delete the photos as plain files.
    register(
        PersonalData(app="production", section=_section, position=112, export=_export, erase=_erase, erase_order=3)
    )
