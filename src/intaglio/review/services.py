"""Review writes: a reviewer's verdict on an item of the queue, curation under broad-learning consent (E6), and the
audited view of the item's file (E13). Each checks the role and the queue again, at the moment it acts."""

from __future__ import annotations

from typing import IO

from django.db import transaction

from intaglio.accounts.roles import Role, role_held
from intaglio.assets.models import Asset
from intaglio.assets.storage import blob_open
from intaglio.core.audit import audit_record, audit_staff_view
from intaglio.core.errors import Refused
from intaglio.review.models import Verdict
from intaglio.review.selectors import curation_allowed, review_item

NOTE_MAX = 500
# Why a reviewer looks at a customer's file: the owner reads it beside each access.
REVIEW_REASON = "internal review"


class ReviewRefused(Refused):
    statuses = {"not_found": 404, "no_consent": 409}


def _queued(*, reviewer, asset_id: int) -> Asset:
    """The item while the reviewer holds the role and the item is in the queue; 404 otherwise (no hint whether the
    file exists)."""
    asset = review_item(asset_id=asset_id) if role_held(reviewer, Role.REVIEWER) else None
    if asset is None:
        raise ReviewRefused("not_found", "No such item.")
    return asset


def review_file_open(*, reviewer, asset_id: int) -> tuple[Asset, IO[bytes]]:
    """Opens an item's file for a reviewer (the caller closes it), recording the access (who, which file, when,
    why) before a byte is read. The owner sees it on their data page and in their export."""
    asset = _queued(reviewer=reviewer, asset_id=asset_id)
    audit_staff_view(actor=reviewer, role=Role.REVIEWER, asset=asset, reason=REVIEW_REASON)
    try:
        return asset, blob_open(asset.storage_key)
    except FileNotFoundError:
        raise ReviewRefused("not_found", "No such item.") from None


def verdict_record(
    *, reviewer, asset_id: int, style_valid: bool, material_valid: bool, settings_valid: bool, note: str
) -> Verdict:
    """Records a verdict on the item's style, material and settings, with a note; audited without the note."""
    asset = _queued(reviewer=reviewer, asset_id=asset_id)
    note = (note or "").strip()
    if not note or len(note) > NOTE_MAX or any(ord(ch) < 32 and ch not in "\n\r\t" for ch in note):
        raise ReviewRefused("invalid_note", f"Write a note of at most {NOTE_MAX} characters of plain text.")
    with transaction.atomic():
        verdict = Verdict.objects.create(
            asset=asset, reviewer=reviewer, style_valid=style_valid, material_valid=material_valid,
            settings_valid=settings_valid, note=note,
        )  # fmt: skip
        audit_record(
            action="review.verdict", actor=reviewer, actor_role=Role.REVIEWER, target_type="asset",
            target_id=asset.pk, subject_user_id=asset.owner_id,
            detail={"verdict_id": verdict.pk, "valid": verdict.valid},
        )  # fmt: skip
    return verdict


def curation_set(*, reviewer, asset_id: int, curated: bool) -> Asset:
    """Keeps the item as a curated training asset, which then outlives its retention class (E6), or ends that.
    Curating needs the owner's broad-learning consent now; ending it never does."""
    asset = _queued(reviewer=reviewer, asset_id=asset_id)
    with transaction.atomic():
        locked = Asset.objects.select_for_update().get(pk=asset.pk)
        if curated and not curation_allowed(locked):
            raise ReviewRefused(
                "no_consent", "Its owner does not allow curated training assets (broad learning), so it stays "
                "with its own retention.",
            )  # fmt: skip
        if locked.curated != curated:
            locked.curated = curated
            locked.save(update_fields=["curated"])
            audit_record(
                action="review.curated" if curated else "review.uncurated", actor=reviewer,
                actor_role=Role.REVIEWER, target_type="asset", target_id=locked.pk, subject_user_id=locked.owner_id,
            )  # fmt: skip
    return locked
