"""Production: send a finished artwork version to the operator's own workshop to be engraved, follow the order,
cancel it while it has not been photographed, and fetch the workshop's photos of the engraved piece.

An order is named by its number (e.g. `PR-7K3M-Q9XD`), random rather than counted. No postal address or other
personal detail is asked: shipping is arranged outside the platform. The workshop sees the number and the version's
settings, never the customer's name, e-mail or id."""

# No `from __future__ import annotations` here: @paginate resolves the list operations' signatures in this module.
from datetime import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from intaglio.api.errors import ErrorOut
from intaglio.api.pagination import Paginated
from intaglio.api.routers.jobs import AssetOut
from intaglio.api.schemas import StrictIn
from intaglio.core.access import NotOwned
from intaglio.engrave import selectors as engrave_selectors
from intaglio.production import selectors, services
from intaglio.production.models import CancelReason, OrderState
from intaglio.production.services import NOTE_MAX

router = Router(tags=["production"])


class OrderIn(StrictIn):
    note: str = Field("", max_length=NOTE_MAX, description="Optional, to the workshop, about the piece only.")


class OrderOut(Schema):
    number: str = Field(description="The order's number, random (it counts nothing).")
    artwork_id: int | None = Field(description="None once the version was deleted (the order is then cancelled).")
    version_number: int | None
    state: OrderState = Field(description="submitted → in_production → captured → done, or cancelled.")
    cancel_reason: CancelReason | None = Field(description="Why it was cancelled: owner, version_deleted, …")
    note: str
    created_at: datetime
    changed_at: datetime = Field(description="When the state last changed.")
    captures: list[AssetOut] = Field(description="The workshop's photos of the engraved piece (private feedback).")

    @staticmethod
    def resolve_artwork_id(obj) -> int | None:
        return obj.version.artwork_id if obj.version else None

    @staticmethod
    def resolve_version_number(obj) -> int | None:
        return obj.version.number if obj.version else None

    @staticmethod
    def resolve_cancel_reason(obj) -> str | None:
        return obj.cancel_reason or None

    @staticmethod
    def resolve_captures(obj) -> list:
        return [capture.asset for capture in obj.captures.all()]


def owned_order(request, number: str):
    order = selectors.order_owned_get(owner=request.auth, number=number)
    if order is None:
        raise NotOwned("No such order.")
    return order


@router.post(
    "/engrave/artworks/{artwork_id}/versions/{number}/production-orders",
    response={201: OrderOut, 409: ErrorOut},
    summary="Send a finished version to the workshop",
    description=(
        "The workshop engraves it with the version's files and settings and photographs the piece. Refusals: 409 "
        "`not_ready` (the version's files are not made, or were deleted); 422 `invalid_note`."
    ),
)
def create_order(request, artwork_id: int, number: int, payload: OrderIn):
    version = engrave_selectors.artwork_version_get(owner=request.auth, artwork_id=artwork_id, number=number)
    if version is None:
        raise NotOwned("No such version.")
    order = services.order_submit(owner=request.auth, version=version, note=payload.note)
    return Status(201, owned_order(request, order.number))


@router.get(
    "/production/orders",
    response=list[OrderOut],
    summary="Your workshop orders, newest first",
)
@paginate(Paginated)
def list_orders(request):
    return selectors.orders_owned(owner=request.auth)


@router.get("/production/orders/{order_number}", response=OrderOut, summary="One workshop order")
def get_order(request, order_number: str):
    return owned_order(request, order_number)


@router.post(
    "/production/orders/{order_number}/cancel",
    response={200: OrderOut, 409: ErrorOut},
    summary="Cancel an order the workshop has not photographed yet",
    description="Refusals: 409 `wrong_state` (already photographed, done or cancelled).",
)
def cancel_order(request, order_number: str):
    services.order_cancel(order=owned_order(request, order_number), actor=request.auth)
    return owned_order(request, order_number)


@router.get(
    "/production/orders/{order_number}/captures",
    response=list[AssetOut],
    summary="The workshop's photos of the engraved piece",
    description=(
        "Files of yours (kind `factory_capture`), kept like your own photos of engravings: 14 days as private "
        "feedback unless you allow learning from them. GET a file's `content_url` for its bytes."
    ),
)
def list_captures(request, order_number: str):
    owned_order(request, order_number)
    return [capture.asset for capture in selectors.captures_owned(owner=request.auth, number=order_number)]
