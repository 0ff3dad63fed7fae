"""Production writes: the owner sends a version to the workshop and may cancel it; the operator assigns it to a
workshop member; the workshop starts it, downloads its files, uploads photos of the engraved piece and marks it done.

Every workshop download and upload is audited (core.audit) with the workshop member as actor and the customer as
subject, so the customer's data page and the audit log can say who touched their files."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from intaglio.accounts.roles import Role, role_held
from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.services import UploadRefused, asset_delete_blobs, asset_ingest_upload
from intaglio.core.audit import audit_owned, audit_record
from intaglio.core.errors import Refused
from intaglio.engrave.models import ArtworkVersion
from intaglio.engrave.selectors import version_files
from intaglio.privacy.consent import engraved_result_expiry
from intaglio.production.models import OPEN_STATES, CancelReason, Capture, Order, OrderState

NOTE_MAX = 500
CAPTURES_MAX = 8
# The files the workshop may download: what a laser needs, and the simulated burn to compare the piece with.
WORKSHOP_FILES = ("png", "svg", "gcode", "burn-preview")


class ProductionRefused(Refused):
    statuses = {"not_found": 404, "not_ready": 409, "wrong_state": 409, "too_many_captures": 409}


def _note_clean(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX or any(ord(ch) < 32 and ch not in "\n\r\t" for ch in note):
        raise ProductionRefused("invalid_note", f"The note is at most {NOTE_MAX} characters of plain text.")
    return note


def _move(order: Order, state: str, **fields) -> Order:
    order.state = state
    order.changed_at = timezone.now()
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["state", "changed_at", *fields])
    return order


def order_submit(*, owner, version: ArtworkVersion, note: str = "") -> Order:
    """Sends a finished version to the workshop. Nothing but the version and the note is asked: shipping is
    arranged outside the platform."""
    if version.artwork.owner_id != owner.pk:
        raise ProductionRefused("not_found", "No such version among yours.")
    note = _note_clean(note)
    files = version_files(version)
    if "png" not in files:
        raise ProductionRefused("not_ready", "Only a finished version can be engraved: its files are not ready.")
    for _ in range(5):  # a repeated random number is rare; try again rather than fail
        try:
            with transaction.atomic():
                order = Order.objects.create(owner=owner, version=version, note=note)
                break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five collisions of 40 random bits
        raise ProductionRefused("busy", "Please try again.")
    audit_owned(
        "production.submitted", actor=owner, owner_id=owner.pk, target=("production_order", order.number),
        detail={"version_id": version.pk},
    )  # fmt: skip
    return order


def order_cancel(*, order: Order, actor) -> Order:
    """The owner cancels an order the workshop has not photographed yet."""
    if order.owner_id != actor.pk:
        raise ProductionRefused("not_found", "No such order among yours.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.state not in (OrderState.SUBMITTED, OrderState.IN_PRODUCTION):
            raise ProductionRefused("wrong_state", f"This order is {order.get_state_display().lower()}: too late.")
        _move(order, OrderState.CANCELLED, cancel_reason=CancelReason.OWNER)
        audit_owned(
            "production.cancelled", actor=actor, owner_id=order.owner_id, target=("production_order", order.number),
            detail={"reason": CancelReason.OWNER},
        )  # fmt: skip
    return order


def orders_cancel_and_clear(*, orders, reason: str) -> dict[str, int]:
    """Cancels the open ones among `orders` and deletes every capture of them, files and blobs included (a deleted
    version, a closed account). Returns the counts."""
    orders = list(orders)
    with transaction.atomic():
        ids = [order.pk for order in orders]
        cancelled = Order.objects.filter(pk__in=ids, state__in=OPEN_STATES).update(
            state=OrderState.CANCELLED, cancel_reason=reason, changed_at=timezone.now()
        )
        captures = captures_delete(Capture.objects.filter(order_id__in=ids))
    return {"production_orders_cancelled": cancelled, "production_captures": captures}


def captures_delete(captures) -> int:
    """Deletes captures with their files; the blobs go once the transaction commits."""
    asset_ids = list(captures.values_list("asset_id", flat=True))
    keys = list(Asset.objects.filter(pk__in=asset_ids).values_list("storage_key", flat=True))
    Asset.objects.filter(pk__in=asset_ids).delete()  # the captures with them (cascade)
    transaction.on_commit(lambda: asset_delete_blobs(keys))
    return len(asset_ids)


def order_assign(*, order: Order, worker, actor) -> Order:
    """The operator gives an order to a workshop member; only they see it from now on."""
    if worker is not None and not role_held(worker, Role.FACTORY):
        raise ProductionRefused("not_workshop", "Only a member of the workshop can be given an order.")
    order.assigned_to = worker
    order.save(update_fields=["assigned_to"])
    audit_record(
        action="production.assigned", actor=actor, actor_role="staff", target_type="production_order",
        target_id=order.number, subject_user_id=order.owner_id,
        detail={"assigned_to": getattr(worker, "pk", None)},
    )  # fmt: skip
    return order


def _workshop_check(order: Order, worker) -> None:
    if not role_held(worker, Role.FACTORY) or order.assigned_to_id != worker.pk:
        raise ProductionRefused("not_found", "No such order.")


def _workshop_audit(action: str, order: Order, worker, **detail) -> None:
    audit_record(
        action=action, actor=worker, actor_role=Role.FACTORY, target_type="production_order",
        target_id=order.number, subject_user_id=order.owner_id, detail=detail,
    )  # fmt: skip


def order_start(*, order: Order, worker) -> Order:
    _workshop_check(order, worker)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.state != OrderState.SUBMITTED:
            raise ProductionRefused("wrong_state", "Only a submitted order can be started.")
        _move(order, OrderState.IN_PRODUCTION)
        _workshop_audit("production.started", order, worker)
    return order


def order_finish(*, order: Order, worker) -> Order:
    _workshop_check(order, worker)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.state != OrderState.CAPTURED:
            raise ProductionRefused("wrong_state", "Photograph the piece before the order is done.")
        _move(order, OrderState.DONE)
        _workshop_audit("production.done", order, worker)
    return order


def order_file_open(*, order: Order, worker, role: str) -> Asset:
    """One of the order's files for the workshop to download; audited (who, which file, when, why)."""
    _workshop_check(order, worker)
    if order.state not in OPEN_STATES or order.version is None or role not in WORKSHOP_FILES:
        raise ProductionRefused("not_found", "No such file for this order.")
    asset = version_files(order.version).get(role)
    if asset is None:
        raise ProductionRefused("not_found", "No such file for this order.")
    audit_record(
        action="production.file_downloaded", actor=worker, actor_role=Role.FACTORY, target_type="asset",
        target_id=asset.pk, subject_user_id=order.owner_id,
        detail={"order": order.number, "role": role, "why": "engrave the order"},
    )  # fmt: skip
    return asset


def capture_store(*, order: Order, worker, upload) -> Capture:
    """A workshop photo of the engraved piece, stored through the same ingest as every photo, as a file of the
    customer's (kind factory_capture): private feedback, kept 14 days unless the customer lets us learn from photos
    of their engravings (E12), reviewable under their internal_review consent (E13). The order is then captured."""
    _workshop_check(order, worker)
    if order.state not in (OrderState.IN_PRODUCTION, OrderState.CAPTURED):
        raise ProductionRefused("wrong_state", "Start the order before you photograph the piece.")
    if order.captures.count() >= CAPTURES_MAX:
        raise ProductionRefused("too_many_captures", f"An order keeps at most {CAPTURES_MAX} photos.")
    try:
        photo = asset_ingest_upload(owner=order.owner, upload=upload, kind=AssetKind.FACTORY_CAPTURE)
    except UploadRefused as refused:
        if refused.code != "quota_exceeded":
            raise
        # The ingest's own message speaks to the customer about their storage; the workshop learns only this.
        raise ProductionRefused("customer_storage_full", "The customer's storage is full: ask the operator.") from None
    try:
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.state not in (OrderState.IN_PRODUCTION, OrderState.CAPTURED):
                raise ProductionRefused("wrong_state", "This order was cancelled meanwhile.")
            number = locked.captures.count() + 1
            photo.title = f"Workshop photo {number} of {locked.number}"
            photo.download_name = f"{locked.number.lower()}-photo-{number}.{photo.download_name.rsplit('.', 1)[-1]}"
            photo.retention_class = RetentionClass.PRIVATE_FEEDBACK
            photo.expires_at = engraved_result_expiry(user=locked.owner)
            photo.save(update_fields=["title", "download_name", "retention_class", "expires_at"])
            capture = Capture.objects.create(order=locked, asset=photo)
            if locked.state != OrderState.CAPTURED:
                _move(locked, OrderState.CAPTURED)
            _workshop_audit("production.captured", locked, worker, asset_id=photo.pk)
    except BaseException:
        key = photo.storage_key
        Asset.objects.filter(pk=photo.pk).delete()
        asset_delete_blobs([key])
        raise
    return capture
