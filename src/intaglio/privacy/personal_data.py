"""What privacy itself holds about a person: consent history, notice e-mails sent, measurements kept under
consent, and data-rights requests. Declared like every other app's records, so rights.py treats them alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db.models import Q

from intaglio.accounts.models import normalize_email
from intaglio.core.audit import staff_views
from intaglio.core.models import AuditEvent
from intaglio.core.personal_data import (
    Expiring,
    PersonalData,
    Purge,
    Section,
    Subject,
    Swept,
    iso,
    kept_with_account,
    owned_rows,
    register,
    register_expiring,
    sweep_lock,
)
from intaglio.privacy.models import ConsentEvent, DataRequest, DerivedMetric, PolicyNotification


def _consent_section() -> Section:
    return Section("consent_events", "Consent history", *kept_with_account(), "To show what you agreed to and when.")


CONSENT_FIELDS = ("scope", "granted", "asset_id", "notice_version", "source", "created_at")
METRIC_FIELDS = ("key", "number", "label", "source_asset_id", "created_at", "expires_at")


def _notices_section() -> Section:
    return Section(
        "notices_sent",
        "Privacy-notice e-mails sent to you",
        *kept_with_account(),
        "To e-mail each material change once.",
    )


def _notices_export(subject: Subject) -> list[dict]:
    if subject.user is None:
        return []
    notices = PolicyNotification.objects.filter(user=subject.user).select_related("version").order_by("sent_at")
    return [{"version": n.version.version, "sent_at": iso(n.sent_at)} for n in notices]


def _metrics_section() -> Section:
    metric_months = round(settings.RETENTION_DERIVED_METRIC_DAYS / 30.4)
    return Section(
        "derived_metrics",
        "Measurements kept under consent",
        "derived_metrics",
        f"{metric_months} months, or until you withdraw the consent.",
        "To improve material and machine guidance, as you allowed.",
    )


def _metrics_purge(purge: Purge) -> dict[str, int]:
    # They PROTECT the consent rows the purge removes; nothing about them goes into the purge's audit event.
    DerivedMetric.objects.filter(owner_id=purge.user_id).delete()
    return {}


def _requests_section() -> Section:
    request_years = settings.RETENTION_DATA_REQUEST_YEARS
    return Section(
        "data_requests",
        "Your data-rights requests",
        "data_request",
        f"{request_years} years after the answer.",
        f"record of your request, kept {request_years} years",
        survives_erasure=True,
        erasure_note="with the e-mail address you asked from",
    )


def _subject_data_request_ids(user_id: int | None) -> list[int]:
    # After the purge a request's user link is NULL; the audit event of its reception still names the subject.
    if user_id is None:
        return []
    ids = AuditEvent.objects.filter(
        action="data_request.received", target_type="data_request", subject_user_id=user_id
    ).values_list("target_id", flat=True)
    return [int(i) for i in ids if str(i).isdigit()]


def _requests_export(subject: Subject) -> list[dict]:
    match = Q(pk__in=_subject_data_request_ids(subject.user_id))
    if subject.user_id is not None:
        match |= Q(user_id=subject.user_id)
    if subject.match_email and subject.email:
        match |= Q(email=normalize_email(subject.email))
    return [
        {
            "id": r.pk,
            "kind": r.kind,
            "channel": r.channel,
            "email": r.email,
            "details": r.details,
            "status": r.status,
            "received_at": iso(r.received_at),
            "due_at": iso(r.due_at),
            "completed_at": iso(r.completed_at),
            "outcome": r.outcome,
        }
        for r in DataRequest.objects.filter(match).order_by("received_at", "pk")
    ]


def _metrics_tables() -> list:
    return [DerivedMetric.objects.all()]


def _metrics_sweep(ids: list[int], *, now: datetime, clock: Callable[[], datetime]) -> Swept:
    """Expired measurements always go: nothing holds one back."""
    rows = list(
        sweep_lock(DerivedMetric.objects.filter(pk__in=ids, expires_at__lte=now).order_by("pk")).values_list(
            "pk", "expires_at"
        )
    )
    deleted_at = clock()
    DerivedMetric.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    return Swept(
        deleted=[(pk, "derived_metric", expires_at) for pk, expires_at in rows], skipped=[], deleted_at=deleted_at
    )


def _staff_views_section() -> Section:
    return Section(
        "staff_accesses",
        "Staff who looked at your files",
        "audit_log",
        "With the audit log; an erasure does not delete it.",
        "record of staff looks at your files, kept with the audit log",
        survives_erasure=True,
        erasure_note="who looked at which file, when and why, never the file itself",
    )


def _staff_views_export(subject: Subject) -> list[dict]:
    if subject.user_id is None:
        return []
    return [
        {
            "at": iso(event.at),
            "staff_id": event.actor_id,
            "role": event.actor_role,
            "file_id": int(event.target_id) if event.target_id.isdigit() else None,
            "file_kind": event.detail.get("kind"),
            "reason": event.detail.get("reason"),
        }
        for event in staff_views(subject_user_id=subject.user_id).order_by("at", "pk")
    ]


def declare() -> None:
    oldest_first = ("created_at", "pk")
    register(
        owned_rows("privacy", _consent_section, 30, ConsentEvent, CONSENT_FIELDS, owner="user", order_by=oldest_first),
        PersonalData("privacy", _notices_section, 40, export=_notices_export),
        owned_rows(
            "privacy", _metrics_section, 110, DerivedMetric, METRIC_FIELDS, order_by=oldest_first,
            erased_as="derived_metrics", erase_order=70, purge=_metrics_purge,
        ),
        PersonalData("privacy", _requests_section, 130, export=_requests_export),
        PersonalData("privacy", _staff_views_section, 116, export=_staff_views_export),
    )  # fmt: skip
    register_expiring(
        Expiring(
            item_type="derived_metric",
            counter="deleted_metrics",
            order=20,
            tables=_metrics_tables,
            sweep=_metrics_sweep,
        )
    )
