"""What credits holds about a person: the credit ledger. It is billing data (J22): an erasure or purge keeps it,
pseudonymised, and it goes RETENTION_LEDGER_YEARS after it was written."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Replace

from intaglio.core.audit import audit_record
from intaglio.core.personal_data import PersonalData, Purge, Section, Subject, add_months, records, register
from intaglio.credits.models import LedgerEntry


def _section() -> Section:
    years = settings.RETENTION_LEDGER_YEARS
    return Section(
        "ledger_entries",
        "Credit ledger",
        "billing",
        f"{years} years; pseudonymised when the account is deleted.",
        f"billing records, kept {years} years",
        survives_erasure=True,
        erasure_note="no longer linked to your name or e-mail address",
    )


LEDGER_FIELDS = (
    "id",
    "kind",
    "credits",
    "delta",
    "shortfall",
    "memo",
    "job_id",
    "reference",
    "invoice_url",
    "expires_at",
    "created_at",
    "pseudonymised_at",
)


def _export(subject: Subject) -> list[dict]:
    # Also after the purge: the rows then carry the former account's pseudonym instead of its id.
    if subject.user_id is None:
        return []
    ledger = LedgerEntry.objects.filter(Q(user_id=subject.user_id) | Q(subject_ref=subject.ref))
    return records(ledger.order_by("created_at", "pk"), LEDGER_FIELDS)


def _purge(purge: Purge) -> dict[str, int]:
    rows = LedgerEntry.objects.filter(user_id=purge.user_id).update(
        user=None,
        subject_ref=purge.ref,
        pseudonymised_at=purge.now,
        # Grant keys carry the user id ("grant:<id>:<period>"): they take the pseudonym instead.
        # (also inside the key of a settlement those credits paid: "settle:grant:<id>:<period>").
        idempotency_key=Replace(
            F("idempotency_key"), Value(f"grant:{purge.user_id}:"), Value(f"grant:~{purge.ref[:20]}:")
        ),
    )
    return {"ledger_rows_pseudonymised": rows}


def ledger_prune(now: datetime) -> int:
    """Deletes pseudonymised ledger rows older than RETENTION_LEDGER_YEARS (billing class, J22). Rows of existing
    accounts are their balance and stay."""
    cutoff = add_months(now, -12 * settings.RETENTION_LEDGER_YEARS)
    count, _ = LedgerEntry.objects.filter(user=None, created_at__lt=cutoff).delete()
    if count:
        audit_record(action="ledger.pruned", target_type="ledger_entry", detail={"count": count})
    return count


def declare() -> None:
    register(
        PersonalData(app="credits", section=_section, position=120, export=_export, purge=_purge, prune=ledger_prune)
    )
