"""Production reads. The owner reaches their orders by number; a workshop member reaches an order only while it is
assigned to them and they hold the workshop role, and reads it without the customer's identity."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from intaglio.accounts.roles import Role, role_held
from intaglio.production.models import Capture, Order, OrderState

# What the workshop's queue lists: the orders still to work on, then the finished ones (cancelled ones drop out).
WORKSHOP_STATES = (OrderState.SUBMITTED, OrderState.IN_PRODUCTION, OrderState.CAPTURED, OrderState.DONE)


def orders_owned(*, owner) -> QuerySet[Order]:
    return Order.objects.filter(owner=owner).select_related("version__artwork").prefetch_related("captures__asset")


def order_owned_get(*, owner, number: str) -> Order | None:
    return orders_owned(owner=owner).filter(number=number).first()


def orders_for_versions(*, owner, version_ids: list[int]) -> dict[int, list[Order]]:
    """The owner's orders by version id, for the studio's versions list."""
    found: dict[int, list[Order]] = {}
    for order in orders_owned(owner=owner).filter(version_id__in=version_ids):
        found.setdefault(order.version_id, []).append(order)
    return found


def captures_owned(*, owner, number: str) -> QuerySet[Capture]:
    return Capture.objects.filter(order__owner=owner, order__number=number).select_related("asset")


def workshop_queue(*, worker) -> QuerySet[Order]:
    """The orders assigned to `worker`, the ones to work on first; empty for anyone without the workshop role."""
    if not role_held(worker, Role.FACTORY):
        return Order.objects.none()
    rank = Case(
        When(state=OrderState.SUBMITTED, then=Value(0)),
        When(state=OrderState.IN_PRODUCTION, then=Value(1)),
        When(state=OrderState.CAPTURED, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return (
        Order.objects.filter(assigned_to=worker, state__in=WORKSHOP_STATES, owner__closed_at__isnull=True)
        .select_related("version__job")
        .prefetch_related("captures")
        .annotate(rank=rank)
        .order_by("rank", "created_at", "id")
    )


def workshop_order_get(*, worker, number: str) -> Order | None:
    return workshop_queue(worker=worker).filter(number=number).first()
