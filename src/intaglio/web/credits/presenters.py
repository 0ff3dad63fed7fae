"""The credits page: the balance, the plan, storage used, and every movement of credits in words."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Paginator

from intaglio.assets.selectors import storage_used_bytes
from intaglio.credits.models import EntryKind, LedgerEntry
from intaglio.credits.selectors import credit_balance, credit_debt, credit_history
from intaglio.web.jobs.presenters import kind_label

LEDGER_PAGE_SIZE = 50

ENTRY_DISPLAY = {
    EntryKind.GRANT: "Monthly allowance",
    EntryKind.PURCHASE: "Credits bought",
    EntryKind.RESERVE: "Job",
    EntryKind.EXPIRY: "Expired",
    EntryKind.REFUND: "Refunded payment",
    EntryKind.REVERSAL: "Disputed payment",
    EntryKind.SETTLEMENT: "Paid towards what you owed",
}
# A job's credits move as one line: held when it starts, then spent or returned. Its state is the later entry.
JOB_STATE = {EntryKind.RESERVE: "held while it runs", EntryKind.CAPTURE: "spent", EntryKind.RELEASE: "returned"}


def megabytes_label(megabytes: int) -> str:
    """A plan's storage as people read it; plans are written in decimal megabytes (20_000 is "20 GB")."""
    return f"{megabytes} MB" if megabytes < 1000 else f"{megabytes / 1000:.3g} GB"


@dataclass
class LedgerRow:
    entry: LedgerEntry  # the line's first entry (for a job, its reservation)
    label: str
    job_label: str
    state: str  # for a job: held while it runs, spent or returned
    delta: int  # the line's effect on the balance
    balance: int  # the balance after the line


def history_rows(entries: list[LedgerEntry], *, balance_now: int) -> list[LedgerRow]:
    """Entries (newest first) as lines: one per job (its hold and its capture or release together), one per other
    entry; each line with its net effect and the balance after it, counted back from `balance_now`."""
    lines: list[LedgerRow] = []
    by_job: dict[int, LedgerRow] = {}
    for entry in entries:
        if entry.job_id and entry.kind in JOB_STATE:
            row = by_job.get(entry.job_id)
            if row is None:
                row = LedgerRow(entry, "Job", "", JOB_STATE[entry.kind], 0, 0)
                by_job[entry.job_id] = row
                lines.append(row)
            elif entry.kind == EntryKind.RESERVE:
                row.entry = entry  # the line sits where the job started
            if entry.kind != EntryKind.RESERVE:
                row.state = JOB_STATE[entry.kind]
            row.delta += entry.delta
            row.job_label = f"{kind_label(entry.job.kind)} #{entry.job.pk}" if entry.job else ""
            continue
        lines.append(LedgerRow(entry, ENTRY_DISPLAY.get(entry.kind, entry.kind.capitalize()), "", "", entry.delta, 0))
    running = balance_now
    for row in lines:
        row.balance = running
        running -= row.delta
    return lines


def credits_context(user, *, page_number) -> dict:
    plan = settings.PLANS[user.plan]
    quota = plan["storage_mb"] * 1024 * 1024
    used = storage_used_bytes(owner=user)
    percent = min(100.0, 100 * used / quota) if quota else 100.0
    balance = credit_balance(user=user)
    # Lines, not entries, are paged: a job's hold and settlement always share a line.
    lines = history_rows(list(credit_history(user=user)), balance_now=balance)
    page = Paginator(lines, LEDGER_PAGE_SIZE).get_page(page_number)
    rows = list(page.object_list)
    return {
        "debt": credit_debt(user=user),
        "balance": balance,
        "plan_name": user.plan.capitalize(),
        "plan": plan,
        "storage_used": used,
        "storage_quota_label": megabytes_label(plan["storage_mb"]),
        "storage_percent": percent,
        "storage_percent_label": "under 1%" if 0 < percent < 1 else f"{percent:.0f}%",
        "page": page,
        "rows": rows,
    }
