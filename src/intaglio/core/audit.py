"""The audit log of sensitive actions (staff views of customer content, deletions, consent changes, exports,
closures, data-request decisions). Records who, what, which object and when; never content."""

from __future__ import annotations

from intaglio.core.models import AuditEvent

# Detail values are short scalars: ids, counts, states. Anything longer could be content and is refused.
MAX_DETAIL_VALUE_CHARS = 80


class AuditDetailRefused(ValueError):
    pass


def audit_record(
    *,
    action: str,
    actor=None,
    actor_role: str = "customer",
    target_type: str = "",
    target_id: object = "",
    subject_user_id: int | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Appends one audit event. `actor` None means the system (scheduler, sweeper)."""
    detail = detail or {}
    for key, value in detail.items():
        if not isinstance(value, int | float | bool | str | type(None)) or (
            isinstance(value, str) and len(value) > MAX_DETAIL_VALUE_CHARS
        ):
            raise AuditDetailRefused(f"audit detail {key!r} must be a short scalar, not content")
    return AuditEvent.objects.create(
        actor=actor,
        actor_role="system" if actor is None and actor_role == "customer" else actor_role,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        subject_user_id=subject_user_id if subject_user_id is not None else getattr(actor, "pk", None),
        detail=detail,
    )


def audit_owned(action: str, *, actor, owner_id: int, target: tuple[str, object], detail: dict) -> AuditEvent:
    """Audits an act on an owner's thing (`target` is its type and id), by the owner ("customer") or by staff
    acting for them."""
    target_type, target_id = target
    role = "customer" if actor.pk == owner_id else "staff"
    return audit_record(
        action=action,
        actor=actor,
        actor_role=role,
        target_type=target_type,
        target_id=target_id,
        subject_user_id=owner_id,
        detail=detail,
    )


# Staff looking at a customer's file (a reviewer's view, a workshop's download): one event per access, which the
# owner sees on their data page and in their export, and the privacy officer filters by customer and month.
STAFF_FILE_VIEWED = "staff.file_viewed"


def audit_staff_view(*, actor, role: str, asset, reason: str) -> AuditEvent:
    """Records that `actor`, acting as `role`, looked at `asset` (a customer's file) now, and why (a short reason
    the owner reads, e.g. "internal review")."""
    return audit_record(
        action=STAFF_FILE_VIEWED,
        actor=actor,
        actor_role=str(role),
        target_type="asset",
        target_id=asset.pk,
        subject_user_id=asset.owner_id,
        detail={"reason": reason, "kind": str(asset.kind)},
    )


def staff_views(*, subject_user_id: int, since=None):
    """The accesses of staff to the files of account `subject_user_id`, newest first (since `since` if given)."""
    views = AuditEvent.objects.filter(action=STAFF_FILE_VIEWED, subject_user_id=subject_user_id)
    return views.filter(at__gte=since) if since is not None else views
