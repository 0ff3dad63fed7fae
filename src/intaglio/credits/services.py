"""Credit ledger writes. Callers hold the owner's row lock (see jobs.services) so balances never go negative."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat

from intaglio.credits.models import EntryKind, LedgerEntry
from intaglio.credits.selectors import credit_balance

log = logging.getLogger("intaglio.credits")


class InsufficientCredits(Exception):
    def __init__(self, *, needed: int, available: int):
        super().__init__(needed, available)
        self.needed, self.available = needed, available

    def __str__(self) -> str:
        return (
            f"This needs {self.needed} credit{'s' if self.needed != 1 else ''} and you have {self.available}. "
            "Credits renew monthly with your plan."
        )


def _append(*, user, kind: str, credits: int, delta: int, key: str, job=None, memo: str = "") -> LedgerEntry | None:
    """Writes the entry once; a repeat with the same key returns None and changes nothing."""
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                user=user, job=job, kind=kind, credits=credits, delta=delta, idempotency_key=key, memo=memo
            )
    except IntegrityError:
        if LedgerEntry.objects.filter(idempotency_key=key).exists():
            return None
        raise


def credits_grant_monthly(*, user, period: str) -> LedgerEntry | None:
    """Grants the plan's allowance for a period such as "2026-11"; at most once per user and period."""
    allowance = settings.PLANS[user.plan]["monthly_credits"]
    return _append(
        user=user,
        kind=EntryKind.GRANT,
        credits=allowance,
        delta=allowance,
        key=f"grant:{user.pk}:{period}",
        memo=f"{user.plan} plan, {period}",
    )


def credits_reserve(*, job, credits: int) -> None:
    """Holds credits for a job. The caller must hold the owner's row lock inside its transaction."""
    if credits == 0:
        return  # free work leaves no ledger rows: nothing is held, so nothing is captured or released
    available = credit_balance(user=job.owner)
    if credits > available:
        raise InsufficientCredits(needed=credits, available=available)
    _append(
        user=job.owner, job=job, kind=EntryKind.RESERVE, credits=credits, delta=-credits, key=f"job:{job.pk}:reserve"
    )


def credits_capture(*, job) -> None:
    """The job succeeded: the held credits are spent."""
    _settle(job=job, kind=EntryKind.CAPTURE, delta=0)


def credits_release(*, job) -> None:
    """The job failed or was cancelled: the held credits come back."""
    _settle(job=job, kind=EntryKind.RELEASE, delta=job.credits_reserved)


def _settle(*, job, kind: str, delta: int) -> None:
    if _settled(job):
        return
    _append(user=job.owner, job=job, kind=kind, credits=job.credits_reserved, delta=delta, key=f"job:{job.pk}:{kind}")


def _settled(job) -> bool:
    """A reservation ends exactly once: captured or released, never both."""
    return (
        job.credits_reserved == 0
        or LedgerEntry.objects.filter(idempotency_key__in=[f"job:{job.pk}:capture", f"job:{job.pk}:release"]).exists()
    )


def credits_grant_due(*, period: str) -> int:
    """Grants the period's allowance to every open account that has not had it yet; returns how many got it.

    Runs hourly, so accounts already granted are filtered out in the query rather than tried one by one.
    """
    from django.contrib.auth import get_user_model

    key = Concat(Value("grant:"), Cast(OuterRef("pk"), CharField()), Value(f":{period}"))
    granted_already = LedgerEntry.objects.filter(idempotency_key=key)
    due = get_user_model().objects.filter(is_active=True, closed_at__isnull=True).exclude(Exists(granted_already))
    granted = 0
    for user in due.iterator():
        if credits_grant_monthly(user=user, period=period) is not None:
            granted += 1
    return granted
