"""Data rights (J20–J29, E15): closure and purge, erasure, export, restriction, data-rights requests and their
deadlines, and the one-time codes of the request form for people who cannot log in.

Closure and purge
    ``account_close`` disables login, ends every session and revokes every API token at once (J20).
    ``closures_process`` (scheduled, idempotent) deletes the content of closed accounts: artworks, jobs (in-flight
    ones are cancelled first), files and their blobs, machine profiles, presets, derived metrics, then sets
    ``content_deleted_at`` (J21: within RETENTION_CLOSED_CONTENT_HOURS of the closure, whenever it runs at least
    that often). ``accounts_purge_due`` (scheduled) deletes the account row and every personal record at
    closed_at + RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS; the credit ledger is kept, pseudonymised (J22), and
    ``ledger_prune`` drops pseudonymised rows after RETENTION_LEDGER_YEARS.

    Only a legal hold stops deletion: a held file stays (with the jobs that use it), and the account's purge waits
    until the hold is lifted.

Erasure (J26)
    ``erasure_request`` closes the account and purges it at once, without the 90 days. What survives has a recorded
    reason: the pseudonymised ledger ("billing records") and the DataRequest itself ("record of your request").
    An export built afterwards for that subject (``subject_export``) shows exactly those, each with its class and
    reason.

Export (J24, J28)
    ``data_export`` builds a ZIP synchronously, streamed to a temporary file (blobs are copied in 1 MiB chunks, so
    memory stays flat whatever the account holds): ``manifest.json`` (documented by docs/export-schema.json) with
    every personal record, and the original files under ``files/`` with their SHA-256 computed while copying.

Requests (J29)
    Every request gets a DataRequest with due_at = min(received + 30 days, received + 1 calendar month).

Whose records
    Nothing here knows another app's models. Each app declares its records in its own personal_data.py
    (core.personal_data.register, from its AppConfig.ready): export, files, content deletion, purge and prune walk
    those declarations, in the order they give.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from intaglio.accounts.emails import send_account_email
from intaglio.accounts.models import normalize_email
from intaglio.accounts.services import AccountError
from intaglio.core.audit import audit_record
from intaglio.core.errors import Refused
from intaglio.core.models import AuditEvent
from intaglio.core.personal_data import (
    Erasure,
    ExportFile,
    Purge,
    Section,
    Subject,
    add_months,
    iso,
    registered,
)
from intaglio.core.ratelimit import rate_hit
from intaglio.privacy.models import AccessCode, DataRequest
from intaglio.privacy.notice import policy_current

log = logging.getLogger("intaglio.privacy")

OPEN_STATUSES = (DataRequest.Status.RECEIVED, DataRequest.Status.IN_PROGRESS)
FINAL_STATUSES = (DataRequest.Status.COMPLETED, DataRequest.Status.REFUSED)
# J29: the officer is alerted this long before a request falls due.
DUE_ALERT_DAYS = 7

ACCESS_CODE_TTL = timedelta(minutes=15)
ACCESS_CODE_MAX_ATTEMPTS = 5
# Fixed-window limits of the request form: (how many, per seconds). Counted atomically (core.ratelimit), so
# simultaneous requests cannot slip past them.
CODE_SENDS_PER_ADDRESS = (3, 15 * 60)
CODE_SENDS_PER_IP = (10, 60 * 60)
# Code checks per network address, counted before the code is compared: only checks within it are made at all.
CODE_CHECKS_PER_IP = (20, 15 * 60)

EXPORT_FORMAT = "intaglio-data-export"
EXPORT_FORMAT_VERSION = 1
EXPORT_CHUNK = 1024 * 1024


class RightsError(Refused):
    """A refusal the person may read; the message says what to do next."""


# ------------------------------------------------------------------------------------------------------ deadlines


def data_request_due(received_at: datetime) -> datetime:
    """J29: a request is answered within 30 days and within one calendar month, whichever ends first."""
    return min(received_at + timedelta(days=30), add_months(received_at, 1))


# ------------------------------------------------------------------------------------------------------- subjects


def ledger_subject_ref(user_id: int) -> str:
    """The pseudonym a purged account's ledger rows carry: a keyed digest of the former user id. Without SECRET_KEY
    it cannot be turned back into the id; with it, the rows of one former account still add up for billing and
    audit, and an export for that subject can find them."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"intaglio.ledger-subject:{int(user_id)}".encode(), hashlib.sha256).hexdigest()


def privacy_officers():
    """Staff who may decide data-rights requests: superusers, and staff granted privacy.change_datarequest (directly
    or through a group such as "Privacy officer")."""
    perm = Permission.objects.filter(content_type__app_label="privacy", codename="change_datarequest")
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(user_permissions__in=perm) | Q(groups__permissions__in=perm))
        .distinct()
        .order_by("pk")
    )


def _mail_officers(*, template: str, context: dict) -> int:
    addresses = list(privacy_officers().values_list("email", flat=True))
    for address in addresses:
        send_account_email(to=address, template=template, context=context)
    if not addresses:
        log.warning("privacy.no_officer", extra={"template": template})
    return len(addresses)


def _admin_url(data_request: DataRequest) -> str:
    return f"{settings.BASE_URL}/admin/privacy/datarequest/{data_request.pk}/change/"


# ---------------------------------------------------------------------------------------------- data requests


def data_request_create(
    *,
    kind: str,
    email: str,
    channel: str,
    user=None,
    details: str = "",
    status: str = DataRequest.Status.RECEIVED,
    outcome: str = "",
    actor=None,
    actor_role: str = "customer",
    received_at: datetime | None = None,
) -> DataRequest:
    """Records a request with its deadline (J29) and an audit event. An open request reaches the privacy officers
    by e-mail (E15); the requester gets an acknowledgement with the date they will hear back by."""
    if kind not in DataRequest.Kind.values:
        raise RightsError("unknown_kind", f"There is no request kind called {kind!r}.")
    received_at = received_at or timezone.now()
    final = status in FINAL_STATUSES
    data_request = DataRequest.objects.create(
        user=user,
        email=normalize_email(email),
        kind=kind,
        channel=channel,
        details=(details or "").strip()[:4000],
        status=status,
        received_at=received_at,
        due_at=data_request_due(received_at),
        completed_at=received_at if final else None,
        outcome=outcome,
    )
    audit_record(
        action="data_request.received",
        actor=actor,
        actor_role=actor_role,
        target_type="data_request",
        target_id=data_request.pk,
        subject_user_id=getattr(user, "pk", None),
        detail={"kind": kind, "channel": channel, "status": status},
    )
    if status == DataRequest.Status.RECEIVED:
        # Needs a person: the officers hear of it, the requester gets the date they will hear back by.
        context = {"request": data_request, "admin_url": _admin_url(data_request)}
        transaction.on_commit(lambda: _mail_officers(template="data_request_officer", context=context))
        transaction.on_commit(
            lambda: send_account_email(to=data_request.email, template="data_request_received", context=context)
        )
    return data_request


def data_request_decide(
    *,
    data_request: DataRequest,
    status: str,
    outcome: str = "",
    actor=None,
    actor_role: str = "privacy_officer",
    notify: bool = True,
) -> DataRequest:
    """Moves a request on (in progress, completed or refused) and records the decision. A refusal must say why;
    the requester is told the outcome of a completed or refused request."""
    if status not in DataRequest.Status.values or status == DataRequest.Status.RECEIVED:
        raise RightsError("invalid_status", "Choose in progress, completed or refused.")
    outcome = (outcome or "").strip()
    if status in FINAL_STATUSES and not outcome:
        raise RightsError("outcome_needed", "Write the outcome: what was done, or why the request is refused.")
    with transaction.atomic():
        locked = DataRequest.objects.select_for_update().get(pk=data_request.pk)
        if locked.status in FINAL_STATUSES:
            raise RightsError("final", f"Request #{locked.pk} is already {locked.get_status_display().lower()}.")
        locked.status = status
        if outcome:
            locked.outcome = outcome
        if status in FINAL_STATUSES:
            locked.completed_at = timezone.now()
        locked.save(update_fields=["status", "outcome", "completed_at"])
        audit_record(
            action=f"data_request.{status}",
            actor=actor,
            actor_role=actor_role if actor is not None else "system",
            target_type="data_request",
            target_id=locked.pk,
            subject_user_id=data_request_subject_id(locked),
            detail={"kind": locked.kind, "overdue": locked.due_at < timezone.now()},
        )
    if status in FINAL_STATUSES and notify:
        transaction.on_commit(
            lambda: send_account_email(to=locked.email, template="data_request_decided", context={"request": locked})
        )
    data_request.status, data_request.outcome, data_request.completed_at = (
        locked.status,
        locked.outcome,
        locked.completed_at,
    )
    return locked


def data_request_subject_id(data_request: DataRequest) -> int | None:
    """The account a request is about: its user, or (once the account was purged and the link set to NULL) the
    subject its reception was audited under."""
    if data_request.user_id is not None:
        return data_request.user_id
    return (
        AuditEvent.objects.filter(
            action="data_request.received", target_type="data_request", target_id=str(data_request.pk)
        )
        .exclude(subject_user_id=None)
        .values_list("subject_user_id", flat=True)
        .first()
    )


def data_requests_open():
    return DataRequest.objects.filter(status__in=OPEN_STATUSES)


def data_requests_overdue(*, now: datetime | None = None):
    return data_requests_open().filter(due_at__lt=now or timezone.now())


def data_requests_due_soon(*, now: datetime | None = None, days: int = DUE_ALERT_DAYS):
    now = now or timezone.now()
    return data_requests_open().filter(due_at__gte=now, due_at__lt=now + timedelta(days=days))


def data_requests_alert_due(*, now: datetime | None = None) -> int:
    """J29: e-mails the privacy officers once about each open request that falls due within DUE_ALERT_DAYS (or is
    already overdue). Idempotent: an alerted request is audited and not alerted again."""
    now = now or timezone.now()
    alerted = AuditEvent.objects.filter(action="data_request.due_alert", target_type="data_request").values_list(
        "target_id", flat=True
    )
    alerted = set(alerted)
    soon = data_requests_open().filter(due_at__lt=now + timedelta(days=DUE_ALERT_DAYS)).order_by("due_at")
    due = [r for r in soon if str(r.pk) not in alerted]
    if not due:
        return 0
    _mail_officers(
        template="data_request_due",
        context={"requests": due, "now": now, "queue_url": f"{settings.BASE_URL}/admin/privacy/datarequest/"},
    )
    for data_request in due:
        audit_record(
            action="data_request.due_alert",
            target_type="data_request",
            target_id=data_request.pk,
            subject_user_id=data_request.user_id,
            detail={"overdue": data_request.due_at < now},
        )
    return len(due)


def data_requests_prune(*, now: datetime | None = None) -> int:
    """Deletes request records RETENTION_DATA_REQUEST_YEARS after they were answered."""
    now = now or timezone.now()
    cutoff = add_months(now, -12 * settings.RETENTION_DATA_REQUEST_YEARS)
    count, _ = DataRequest.objects.filter(status__in=FINAL_STATUSES, completed_at__lt=cutoff).delete()
    if count:
        audit_record(action="data_requests.pruned", target_type="data_request", detail={"count": count})
    return count


# ------------------------------------------------------------------------------------------------------- closure


def account_close(*, user, actor=None, actor_role: str = "customer", reason: str = "closed_by_user") -> bool:
    """Closes an account at once (J20): login off, every session ended (a new password hash changes the session
    hash), every API token revoked, and an audit event. Returns False if it was already closed."""
    User = get_user_model()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.closed_at is not None:
            return False
        now = timezone.now()
        locked.is_active = False
        locked.closed_at = now
        locked.set_unusable_password()
        locked.save(update_fields=["is_active", "closed_at", "password"])
        tokens = locked.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
        audit_record(
            action="account.closed",
            actor=actor,
            actor_role=actor_role,
            target_type="user",
            target_id=locked.pk,
            subject_user_id=locked.pk,
            detail={"reason": reason, "tokens_revoked": tokens},
        )
    user.is_active, user.closed_at, user.password = locked.is_active, locked.closed_at, locked.password
    log.info("account.closed", extra={"user_id": user.pk, "reason": reason})
    return True


class PasswordRefused(RightsError, AccountError):
    """A wrong current password. Also an AccountError, so the settings page's handler of account refusals shows
    it under the password field as before."""


def user_close(*, user, password: str) -> None:
    """The owner closes their account (J20): after the password check, account_close, and the "closed" e-mail.

    The content goes within RETENTION_CLOSED_CONTENT_HOURS (closures_process, J21) and the account row at
    closed_at + RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS (accounts_purge_due)."""
    if not user.check_password(password):
        raise PasswordRefused("wrong_password", "Your current password is not correct.")
    # A new password hash changes the session auth hash, so every session is invalid on its next request.
    if account_close(user=user, actor=user, reason="closed_by_user"):
        send_account_email(to=user.email, template="closed", context={})


def account_content_delete(*, user, now: datetime | None = None) -> dict[str, int]:
    """Deletes everything a closed account made or uploaded (J21). Safe to re-run: each step deletes what is left.

    Walks every app's declared personal data (core.personal_data) in its erase order: artworks (their version and
    style jobs with them), then every other job (cancelled first if in flight, so no worker writes for it again),
    then any remaining file and its blob, then jewellery pieces, machine profiles, presets and derived metrics.
    Files under legal hold, and the jobs using them, stay.
    """
    if user.closed_at is None:
        raise RightsError("account_open", "Content is deleted this way only for a closed account.")
    now = now or timezone.now()
    erasure = Erasure(user=user, now=now)
    counts: dict[str, int] = {}
    for declaration in sorted((d for d in registered() if d.erase), key=lambda d: d.erase_order):
        counts.update(declaration.erase(erasure))
    first_time = user.content_deleted_at is None
    if first_time:
        get_user_model().objects.filter(pk=user.pk, content_deleted_at=None).update(content_deleted_at=now)
        user.content_deleted_at = now
    if first_time or any(n for key, n in counts.items() if not _held(key)):
        audit_record(
            action="account.content_deleted",
            target_type="user",
            target_id=user.pk,
            subject_user_id=user.pk,
            detail={**counts, "lag_hours": round((now - user.closed_at).total_seconds() / 3600, 2)},
        )
    log.info("account.content_deleted", extra={"user_id": user.pk, **counts})
    return counts


def _held(count_key: str) -> bool:
    # Counts named held_* say what a legal hold kept: not a deletion.
    return count_key.startswith("held_")


def closures_process(*, now: datetime | None = None) -> dict[str, int]:
    """Deletes the content of every closed account not yet done (J21). Scheduled; idempotent. The deadline is
    closed_at + RETENTION_CLOSED_CONTENT_HOURS, so this must run at least that often (hourly is plenty); `late`
    counts accounts found past it."""
    now = now or timezone.now()
    deadline = timedelta(hours=settings.RETENTION_CLOSED_CONTENT_HOURS)
    totals = {"accounts": 0, "late": 0, "jobs": 0, "files": 0, "blob_failures": 0}
    pending = get_user_model().objects.filter(closed_at__isnull=False, closed_at__lte=now, content_deleted_at=None)
    for user in pending.order_by("closed_at", "pk"):
        counts = account_content_delete(user=user, now=now)
        totals["accounts"] += 1
        totals["late"] += int(now - user.closed_at > deadline)
        for key in ("jobs", "files", "blob_failures"):
            totals[key] += counts[key]
    if totals["late"]:
        log.warning("account.content_deletion_late", extra=totals)
    return totals


def account_purge(*, user, now: datetime | None = None, reason: str = "retention") -> bool:
    """Deletes a closed account's row and personal records (J20) and pseudonymises its ledger rows (J22).

    Kept: ledger rows (user NULL, subject_ref = ledger_subject_ref(id)), DataRequests (user NULL, e-mail kept for
    their own retention), and audit events (ids only, never content). Returns False, and changes nothing, while a
    file of the account is under legal hold.
    """
    if user.closed_at is None:
        raise RightsError("account_open", "An open account is never purged.")
    now = now or timezone.now()
    # Catches anything left since closure (cheap when empty), and says what a legal hold keeps.
    left = account_content_delete(user=user, now=now)
    user_id = user.pk
    if any(n for key, n in left.items() if _held(key)):
        already = AuditEvent.objects.filter(action="account.purge_deferred", subject_user_id=user_id).exists()
        if not already:
            audit_record(
                action="account.purge_deferred",
                target_type="user",
                target_id=user_id,
                subject_user_id=user_id,
                detail={"reason": "legal_hold"},
            )
        log.warning("account.purge_deferred", extra={"user_id": user_id, "reason": "legal_hold"})
        return False
    purge = Purge(user_id=user_id, email=user.email, ref=ledger_subject_ref(user_id), now=now)
    with transaction.atomic():
        counts: dict[str, int] = {}
        for declaration in registered():
            if declaration.purge:
                counts.update(declaration.purge(purge))
        AccessCode.objects.filter(email=user.email).delete()
        audit_record(
            action="account.purged",
            target_type="user",
            target_id=user_id,
            subject_user_id=user_id,
            detail={"reason": reason, **counts},
        )
        # Cascades: consent history, API tokens, notices sent; DataRequest.user and AuditEvent.actor become NULL.
        get_user_model().objects.filter(pk=user_id).delete()
    log.info("account.purged", extra={"user_id": user_id, "reason": reason})
    return True


def accounts_purge_due(*, now: datetime | None = None) -> dict[str, int]:
    """Purges every account closed at least RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS ago (J20). Scheduled; idempotent."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS)
    totals = {"purged": 0, "deferred": 0}
    for user in get_user_model().objects.filter(closed_at__isnull=False, closed_at__lte=cutoff).order_by("pk"):
        totals["purged" if account_purge(user=user, now=now) else "deferred"] += 1
    return totals


def ledger_prune(*, now: datetime | None = None) -> int:
    """Deletes kept records whose own retention has ended: the pseudonymised ledger rows older than
    RETENTION_LEDGER_YEARS (billing class, J22). Rows of existing accounts are their balance and stay."""
    now = now or timezone.now()
    return sum(declaration.prune(now) for declaration in registered() if declaration.prune)


# ------------------------------------------------------------------------------------------------------- erasure


def erasure_request(*, user, password: str, details: str = "") -> DataRequest:
    """Self-service erasure (J26): after the password check, records the request, closes the account, deletes its
    content and purges it at once. Returns the completed request (its user link is NULL afterwards)."""
    if not user.check_password(password):
        raise RightsError("wrong_password", "Your current password is not correct.")
    data_request = data_request_create(
        kind=DataRequest.Kind.ERASE,
        email=user.email,
        user=user,
        channel="self_service",
        details=details,
        status=DataRequest.Status.IN_PROGRESS,
        actor=user,
    )
    return erasure_carry_out(user=user, data_request=data_request, actor=user, actor_role="customer")


def erasure_carry_out(*, user, data_request: DataRequest, actor=None, actor_role: str = "privacy_officer"):
    """Erases an account for an erasure request (self-service, or decided by the privacy officer)."""
    email = user.email
    account_close(user=user, actor=actor, actor_role=actor_role, reason="erasure")
    purged = account_purge(user=user, reason="erasure")
    if not purged:
        data_request.refresh_from_db()
        if data_request.status != DataRequest.Status.IN_PROGRESS:
            data_request_decide(data_request=data_request, status=DataRequest.Status.IN_PROGRESS, actor=None)
        DataRequest.objects.filter(pk=data_request.pk).update(
            outcome="Account closed and content deleted; files under legal hold are kept until the hold ends, "
            "then the account is erased."
        )
        return data_request
    data_request.refresh_from_db()
    decided = data_request_decide(
        data_request=data_request,
        status=DataRequest.Status.COMPLETED,
        outcome=erasure_outcome(),
        actor=None,
        notify=False,  # the "erased" e-mail below says it all
    )
    send_account_email(to=email, template="erased", context={"request": decided, "kept": excepted_classes()})
    return decided


def excepted_classes() -> list[dict]:
    """What an erasure keeps, and why: the only records left about an erased person."""
    return [
        {**section.describe(), "note": section.erasure_note}
        for section in _sections().values()
        if section.survives_erasure
    ]


def erasure_outcome() -> str:
    kept = "; ".join(f"{c['reason']}" for c in excepted_classes())
    return f"Account, content and personal records erased. Kept for a legal reason: {kept}."


# --------------------------------------------------------------------------------------------------- restriction


def restriction_set(
    *,
    user,
    on: bool,
    kind: str = DataRequest.Kind.RESTRICT,
    channel: str = "self_service",
    details: str = "",
    actor=None,
    actor_role: str = "customer",
    data_request: DataRequest | None = None,
) -> DataRequest:
    """Restricts (or lifts the restriction on) processing for the account (J27): while on, job_create refuses new
    work; stored data is kept and expiry still applies. Recorded as a completed DataRequest (or completes the one
    given, when the privacy officer acts on a request)."""
    if kind not in (DataRequest.Kind.RESTRICT, DataRequest.Kind.OBJECT):
        raise RightsError("invalid_kind", "Restriction answers a restriction or objection request.")
    actor = actor if actor is not None else user
    if data_request is None and bool(user.restricted) == on:
        state = "already restricted" if on else "not restricted"
        raise RightsError("unchanged", f"Processing is {state}, so nothing changed.")
    with transaction.atomic():
        get_user_model().objects.filter(pk=user.pk).update(restricted=on)
        user.restricted = on
        outcome = (
            "Processing restricted: no new job starts; your data is kept and still expires on schedule."
            if on
            else "Restriction lifted: new jobs can start again."
        )
        audit_record(
            action="restriction.set" if on else "restriction.lifted",
            actor=actor,
            actor_role=actor_role,
            target_type="user",
            target_id=user.pk,
            subject_user_id=user.pk,
            detail={"kind": kind, "channel": channel},
        )
        if data_request is not None:
            return data_request_decide(
                data_request=data_request,
                status=DataRequest.Status.COMPLETED,
                outcome=outcome,
                actor=actor,
                actor_role=actor_role,
            )
        return data_request_create(
            kind=kind,
            email=user.email,
            user=user,
            channel=channel,
            details=details or ("Restrict processing" if on else "Lift the restriction"),
            status=DataRequest.Status.COMPLETED,
            outcome=outcome,
            actor=actor,
            actor_role=actor_role,
        )


# -------------------------------------------------------------------------------------------------------- export


def _sections() -> dict[str, Section]:
    """Every app's declared section, in the manifest's order."""
    return {section.name: section for section in (declaration.section() for declaration in registered())}


def _records(subject: Subject) -> dict[str, list]:
    """Every personal record of one subject, as JSON-ready dicts (the shapes docs/export-schema.json documents)."""
    records: dict[str, list] = {}
    for declaration in registered():
        records[declaration.section().name] = declaration.export(subject) if declaration.export else []
    return records


README = """Your Intaglio data
==================

manifest.json   every record we hold about you, grouped in sections; each section says how long it is kept
                and why. Its format is documented by export-schema.json (JSON Schema 2020-12) in the product's
                docs folder.
files/uploads/  the files you uploaded, as we stored them (metadata such as GPS was removed on upload).
files/outputs/  the files your jobs produced.

Every file is listed in manifest.json under "files" with its SHA-256 checksum, so you can check that nothing
was altered: sha256sum files/*/* (Linux), shasum -a 256 (macOS) or Get-FileHash (Windows).
"""


def export_write(*, fileobj, user_id: int | None, email: str = "", purpose: str, match_email: bool = False) -> dict:
    """Writes the ZIP for one subject into `fileobj` and returns the manifest. Blobs are streamed in chunks and
    hashed while they are copied; a blob missing from storage is listed under "missing_files", never skipped
    silently."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    subject = Subject(
        user=user,
        user_id=user_id,
        email=email,
        match_email=match_email,
        ref=ledger_subject_ref(user_id) if user_id is not None else None,
    )
    records = _records(subject)
    files, missing = [], []
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for declaration in registered():
            if declaration.files:
                records[declaration.section().name] = [
                    _export_file(archive, stored, files=files, missing=missing) for stored in declaration.files(subject)
                ]
        state = "purged" if user is None else ("closed" if user.closed_at else "open")
        notice = policy_current()
        manifest = {
            "format": EXPORT_FORMAT,
            "format_version": EXPORT_FORMAT_VERSION,
            "generated_at": iso(timezone.now()),
            "purpose": purpose,
            "subject": {"user_id": user_id, "email": user.email if user else (email or None), "account": state},
            "notice_version": notice.version if notice else None,
            "notice_published_at": iso(notice.published_at) if notice else None,
            "sections": {
                name: {**section.describe(), "records": records[name]} for name, section in _sections().items()
            },
            "files": files,
            "missing_files": missing,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr("README.txt", README)
    return manifest


def _export_file(archive: zipfile.ZipFile, stored: ExportFile, *, files: list, missing: list) -> dict:
    """Copies one stored file into the archive, hashing it on the way; returns its record with the path it got
    (None when the file could not be read: it is then listed under "missing_files")."""
    path = stored.path
    digest, size = hashlib.sha256(), 0
    try:
        with stored.open() as source:
            info = zipfile.ZipInfo(path, date_time=timezone.localtime(stored.created_at, UTC).timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED  # pictures are compressed already
            with archive.open(info, "w", force_zip64=True) as target:
                while chunk := source.read(EXPORT_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    target.write(chunk)
    except Exception as error:  # any storage failure: listed as missing, the export still completes
        log.warning("export.blob_missing", extra={"asset_id": stored.file_id, "error": type(error).__name__})
        missing.append({"asset_id": stored.file_id, "reason": "The stored file could not be read."})
        path = None
    else:
        files.append(
            {"path": path, "asset_id": stored.file_id, "sha256": digest.hexdigest(), "bytes": size, "mime": stored.mime}
        )
    return {**stored.record, "path": path}


def _export_audit(*, manifest: dict, subject_user_id, actor, actor_role: str, data_request=None) -> None:
    audit_record(
        action="data_export.built",
        actor=actor,
        actor_role=actor_role,
        target_type="data_request" if data_request is not None else "user",
        target_id=data_request.pk if data_request is not None else (subject_user_id or ""),
        subject_user_id=subject_user_id,
        detail={
            "purpose": manifest["purpose"],
            "files": len(manifest["files"]),
            "missing_files": len(manifest["missing_files"]),
            "bytes": sum(f["bytes"] for f in manifest["files"]),
        },
    )


def data_export_file(*, user):
    """Self-service export (J24, J28): records the access request, writes the ZIP to a temporary file and returns
    it positioned at its start (the caller streams it and closes it)."""
    data_request = data_request_create(
        kind=DataRequest.Kind.ACCESS,
        email=user.email,
        user=user,
        channel="self_service",
        details="Download of my data",
        status=DataRequest.Status.IN_PROGRESS,
        actor=user,
    )
    started = time.perf_counter()
    spool = tempfile.TemporaryFile(prefix="intaglio-export-")  # noqa: SIM115  (returned open to the caller)
    try:
        manifest = export_write(fileobj=spool, user_id=user.pk, purpose="self_service")
    except BaseException:
        spool.close()
        raise
    size = spool.tell()
    spool.seek(0)
    outcome = f"Export downloaded: {len(manifest['files'])} files, {size / (1024 * 1024):.1f} MB."
    with transaction.atomic():
        DataRequest.objects.filter(pk=data_request.pk).update(
            status=DataRequest.Status.COMPLETED, completed_at=timezone.now(), outcome=outcome
        )
        _export_audit(manifest=manifest, subject_user_id=user.pk, actor=user, actor_role="customer")
    log.info(
        "data_export.built",
        extra={
            "user_id": user.pk,
            "files": len(manifest["files"]),
            "bytes": size,
            "ms": (time.perf_counter() - started) * 1000,
        },
    )
    return spool


def data_export(*, user) -> bytes:
    """The self-service export as bytes (for tests and small accounts; the page streams data_export_file)."""
    with data_export_file(user=user) as spool:
        return spool.read()


def subject_export(
    *, actor, user_id: int | None = None, email: str = "", data_request: DataRequest | None = None
) -> bytes:
    """The export the privacy officer builds for a subject: an account (open, closed or already purged, by its
    former id) and/or an e-mail address. After an erasure it holds only the excepted records (J26)."""
    if data_request is not None:
        user_id = user_id if user_id is not None else data_request_subject_id(data_request)
        email = email or data_request.email
    if user_id is None and not email:
        raise RightsError("no_subject", "Give the account or the e-mail address the export is for.")
    with tempfile.TemporaryFile(prefix="intaglio-export-") as spool:
        manifest = export_write(
            fileobj=spool, user_id=user_id, email=email, purpose="privacy_officer", match_email=True
        )
        spool.seek(0)
        data = spool.read()
    _export_audit(
        manifest=manifest, subject_user_id=user_id, actor=actor, actor_role="privacy_officer", data_request=data_request
    )
    return data


# ---------------------------------------------------------------------------------------- request form: codes


class RightsThrottled(RightsError):
    """Too many tries just now; `retry_after` says in how many seconds the next one is allowed."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__("throttled", message, status=429)
        self.retry_after = retry_after


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def _throttle(key: str, limit: tuple[int, int]) -> int | None:
    """Counts one try on `key` in one atomic step: None if it is within the limit, else seconds until it is."""
    count, window = limit
    hit = rate_hit(key, limit=count, window=window)
    return None if hit.allowed else hit.retry_after()


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _code_digest(email: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"access-code:{email}:{code}".encode(), hashlib.sha256).hexdigest()


def access_code_send(*, email: str, ip: str) -> None:
    """Sends a one-time code to the address if an account (open or closed, not yet purged) uses it. The caller
    shows the same page either way, so the form does not reveal who has an account. Throttled per address and
    per network address."""
    email = normalize_email(email)
    for key, limit, who in (
        (f"rights-code:ip:{_digest(ip)}", CODE_SENDS_PER_IP, "your network"),
        (f"rights-code:addr:{_digest(email)}", CODE_SENDS_PER_ADDRESS, "this e-mail address"),
    ):
        wait = _throttle(key, limit)
        if wait is not None:
            raise RightsThrottled(
                f"Several codes were asked for {who} just now. To keep accounts safe, try again in {_minutes(wait)}.",
                retry_after=wait,
            )
    user = get_user_model().objects.filter(email=email).first()
    if user is None:
        log.info("access_code.no_account", extra={"subject": _digest(email)})
        return
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        # One live code per address: asking again replaces the previous one.
        AccessCode.objects.filter(email=email, used_at=None).delete()
        AccessCode.objects.create(
            email=email, code_digest=_code_digest(email, code), created_at=now, expires_at=now + ACCESS_CODE_TTL
        )
        audit_record(
            action="access_code.sent", target_type="user", target_id=user.pk, subject_user_id=user.pk, detail={}
        )
    send_account_email(
        to=email,
        template="access_code",
        context={"code": code, "minutes": int(ACCESS_CODE_TTL.total_seconds() // 60)},
    )


def access_code_check(*, email: str, code: str, ip: str):
    """Spends a valid code and returns the account it was sent for; raises RightsError otherwise. A code allows
    ACCESS_CODE_MAX_ATTEMPTS tries and lives ACCESS_CODE_TTL; checks are also throttled per network address, counted
    before the code is compared, so simultaneous tries cannot pass the limit."""
    email = normalize_email(email)
    code = re.sub(r"\s+", "", code or "")
    wait = _throttle(f"rights-check:ip:{_digest(ip)}", CODE_CHECKS_PER_IP)
    if wait is not None:
        raise RightsThrottled(
            f"Too many wrong codes from your network. To keep accounts safe, try again in {_minutes(wait)}.",
            retry_after=wait,
        )
    # One message for every failure (wrong, expired, tried too often, no such code), so trying codes never tells
    # whether an account uses the address.
    wrong = RightsError(
        "wrong_code",
        "That code is not right, has expired, or was tried too many times. Check the latest e-mail from us, "
        "or ask for a new code.",
    )
    now = timezone.now()
    with transaction.atomic():
        access = (
            AccessCode.objects.select_for_update()
            .filter(email=email, used_at=None, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        spent = access is not None and access.attempts >= ACCESS_CODE_MAX_ATTEMPTS
        if access is None or spent or not hmac.compare_digest(access.code_digest, _code_digest(email, code)):
            if access is not None and not spent:
                # Counted even though the caller gets an error: the block commits, the error is raised after it.
                AccessCode.objects.filter(pk=access.pk).update(attempts=F("attempts") + 1)
            failed = True
        else:
            access.used_at = now
            access.save(update_fields=["used_at"])
            failed = False
    if failed:
        raise wrong
    user = get_user_model().objects.filter(email=email).first()
    if user is None:
        raise wrong
    return user


def data_request_from_form(*, email: str, code: str, kind: str, details: str, ip: str) -> DataRequest:
    """The request form for people who cannot log in (E15): a valid code proves the address, then the request
    goes to the privacy officers' queue."""
    user = access_code_check(email=email, code=code, ip=ip)
    return data_request_create(
        kind=kind,
        email=user.email,
        user=user,
        channel="request_form",
        details=details,
        actor=None,
        actor_role="requester",
    )


def access_codes_prune(*, now: datetime | None = None) -> int:
    """Deletes codes a day after they expired (they are useless after 15 minutes)."""
    now = now or timezone.now()
    count, _ = AccessCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return count
