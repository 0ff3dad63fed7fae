"""What billing holds about a person: the Stripe customer and subscription state, and each payment. Billing class
(J22): an erasure keeps them, the purge pseudonymises them, and they go RETENTION_LEDGER_YEARS after they were
written. No card detail is among them (J31)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Q

from intaglio.billing.models import BillingAccount, Payment
from intaglio.core.audit import audit_record
from intaglio.core.personal_data import PersonalData, Purge, Section, Subject, add_months, records, register


def _section() -> Section:
    years = settings.RETENTION_LEDGER_YEARS
    return Section(
        "billing",
        "Billing: subscription and payments",
        "billing",
        f"{years} years; pseudonymised when the account is deleted.",
        f"billing records, kept {years} years",
        survives_erasure=True,
        erasure_note="no longer linked to your name or e-mail address",
    )


ACCOUNT_FIELDS = (
    "reference",
    "customer_id",
    "subscription_id",
    "subscription_status",
    "plan",
    "current_period_end",
    "cancel_at_period_end",
    "past_due_since",
    "created_at",
    "pseudonymised_at",
)
PAYMENT_FIELDS = (
    "id",
    "kind",
    "stripe_id",
    "product",
    "credits",
    "amount",
    "currency",
    "amount_refunded",
    "status",
    "invoice_url",
    "created_at",
    "pseudonymised_at",
)


def _mine(model, subject: Subject):
    return model.objects.filter(Q(user_id=subject.user_id) | Q(subject_ref=subject.ref))


def _export(subject: Subject) -> list[dict]:
    if subject.user_id is None:
        return []
    accounts = [{"record": "billing_account", **row} for row in records(_mine(BillingAccount, subject), ACCOUNT_FIELDS)]
    payments = records(_mine(Payment, subject).order_by("created_at", "pk"), PAYMENT_FIELDS)
    return accounts + [{"record": "payment", **row} for row in payments]


def _purge(purge: Purge) -> dict[str, int]:
    fields = {"user": None, "subject_ref": purge.ref, "pseudonymised_at": purge.now}
    accounts = BillingAccount.objects.filter(user_id=purge.user_id).update(**fields)
    payments = Payment.objects.filter(user_id=purge.user_id).update(**fields)
    return {"billing_accounts_pseudonymised": accounts, "payments_pseudonymised": payments}


def billing_prune(now: datetime) -> int:
    """Deletes pseudonymised billing records older than RETENTION_LEDGER_YEARS (J22)."""
    cutoff = add_months(now, -12 * settings.RETENTION_LEDGER_YEARS)
    payments, _ = Payment.objects.filter(user=None, created_at__lt=cutoff).delete()
    accounts, _ = (
        BillingAccount.objects.filter(user=None, created_at__lt=cutoff)
        .exclude(subject_ref__in=Payment.objects.filter(user=None).values("subject_ref"))
        .delete()
    )
    if payments or accounts:
        audit_record(action="billing.pruned", target_type="payment", detail={"count": payments + accounts})
    return payments + accounts


def declare() -> None:
    register(
        PersonalData(app="billing", section=_section, position=125, export=_export, purge=_purge, prune=billing_prune)
    )
