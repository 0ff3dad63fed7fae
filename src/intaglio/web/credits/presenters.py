"""The credits page: the balance, the plan, storage used, and every movement of credits in words."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Paginator

from intaglio.assets.selectors import storage_used_bytes
from intaglio.credits.models import EntryKind, LedgerEntry
from intaglio.credits.selectors import credit_balance, credit_history
from intaglio.web.jobs.presenters import kind_label

LEDGER_PAGE_SIZE = 50

ENTRY_DISPLAY = {
    EntryKind.GRANT: "Monthly allowance",
    EntryKind.PURCHASE: "Credits bought",
    EntryKind.RESERVE: "Held for a job",
    EntryKind.CAPTURE: "Spent on a job",
    EntryKind.RELEASE: "Returned from a job",
    EntryKind.EXPIRY: "Expired",
}


def megabytes_label(megabytes: int) -> str:
    return f"{megabytes} MB" if megabytes < 1024 else f"{megabytes / 1024:.3g} GB"


@dataclass
class LedgerRow:
    entry: LedgerEntry
    label: str
    job_label: str


def credits_context(user, *, page_number) -> dict:
    plan = settings.PLANS[user.plan]
    quota = plan["storage_mb"] * 1024 * 1024
    used = storage_used_bytes(owner=user)
    percent = min(100.0, 100 * used / quota) if quota else 100.0
    page = Paginator(credit_history(user=user), LEDGER_PAGE_SIZE).get_page(page_number)
    rows = [
        LedgerRow(
            entry=entry,
            label=ENTRY_DISPLAY.get(entry.kind, entry.kind.capitalize()),
            job_label=f"{kind_label(entry.job.kind)} #{entry.job.pk}" if entry.job else "",
        )
        for entry in page.object_list
    ]
    return {
        "balance": credit_balance(user=user),
        "plan_name": user.plan.capitalize(),
        "plan": plan,
        "storage_used": used,
        "storage_quota_label": megabytes_label(plan["storage_mb"]),
        "storage_percent": percent,
        "storage_percent_label": "under 1%" if 0 < percent < 1 else f"{percent:.0f}%",
        "page": page,
        "rows": rows,
    }
