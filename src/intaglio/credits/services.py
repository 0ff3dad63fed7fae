"""Credit ledger writes. Callers hold the owner's row lock (see jobs.services) so balances never go negative."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Sum, Value
from django.db.models.functions import Cast, Concat

from intaglio.credits.models import EntryKind, LedgerEntry
from intaglio.credits.selectors import credit_balance, credit_debt

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


class CreditsOwed(InsufficientCredits):
    """The account owes credits (a refunded or disputed payment took back more than was left): no paid job starts."""

    def __str__(self) -> str:
        return (
            f"Your account owes {self.available} credit{'s' if self.available != 1 else ''} after a refunded or "
            "disputed payment, so paid jobs are paused. Credits you buy or receive settle it first."
        )


def _append(*, user, kind: str, credits: int, delta: int, key: str, job=None, memo: str = "", **fields):
    """Writes the entry once; a repeat with the same key returns None and changes nothing."""
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                user=user, job=job, kind=kind, credits=credits, delta=delta, idempotency_key=key, memo=memo, **fields
            )
    except IntegrityError:
        if LedgerEntry.objects.filter(idempotency_key=key).exists():
            return None
        raise


def credits_grant_monthly(*, user, period: str) -> LedgerEntry | None:
    """Grants the plan's allowance for a period such as "2026-11"; at most once per user and period.

    With MONTHLY_CREDITS_EXPIRE the credits expire at the start of the next calendar month."""
    allowance = settings.PLANS[user.plan]["monthly_credits"]
    year_, month_ = (int(part) for part in period.split("-"))
    expires_at = None
    if settings.MONTHLY_CREDITS_EXPIRE:
        year, month = (int(part) for part in period.split("-"))
        expires_at = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        entry = _append(
            user=user,
            kind=EntryKind.GRANT,
            credits=allowance,
            delta=allowance,
            key=f"grant:{user.pk}:{period}",
            memo=f"{user.plan.capitalize()} plan, {datetime(year_, month_, 1):%B %Y}",
            expires_at=expires_at,
        )
        if entry is not None:
            _settle_debt(user=user, key=entry.idempotency_key)
    return entry


def credits_add(
    *, user, kind: str, credits: int, key: str, memo: str = "", expires_at=None, reference: str = "", invoice_url=""
) -> LedgerEntry | None:
    """Adds paid-for credits (a purchase, or a subscription's monthly grant) once per `key`; what the account owes
    is settled from them first. The caller holds the user's row lock inside its transaction."""
    if kind not in (EntryKind.GRANT, EntryKind.PURCHASE):
        raise ValueError(f"credits_add writes grants and purchases, not {kind!r}")
    entry = _append(
        user=user,
        kind=kind,
        credits=credits,
        delta=credits,
        key=key,
        memo=memo,
        expires_at=expires_at if settings.MONTHLY_CREDITS_EXPIRE and kind == EntryKind.GRANT else None,
        reference=reference,
        invoice_url=invoice_url,
    )
    if entry is not None:
        _settle_debt(user=user, key=key)
    return entry


def credits_take_back(*, user, kind: str, credits: int, key: str, memo: str = "", reference: str = ""):
    """Takes back credits a refunded or disputed payment brought, once per `key`. It takes at most the available
    balance, so the balance never goes negative; the rest is owed (`shortfall`) and settled by the next credits that
    arrive. The caller holds the user's row lock inside its transaction."""
    if kind not in (EntryKind.REFUND, EntryKind.REVERSAL):
        raise ValueError(f"credits_take_back writes refunds and reversals, not {kind!r}")
    if credits <= 0:
        return None
    taken = min(credits, max(credit_balance(user=user), 0))
    return _append(
        user=user,
        kind=kind,
        credits=credits,
        delta=-taken,
        key=key,
        memo=memo,
        shortfall=credits - taken,
        reference=reference,
    )


def _settle_debt(*, user, key: str) -> None:
    owed = credit_debt(user=user)
    if owed <= 0:
        return
    paid = min(owed, max(credit_balance(user=user), 0))
    if paid:
        _append(user=user, kind=EntryKind.SETTLEMENT, credits=paid, delta=-paid, key=f"settle:{key}"[:120])


def credits_expire_due(*, now=None) -> int:
    """Writes the expiry of every monthly grant whose period has ended; returns how many expired.

    Monthly credits are spent before bought ones, so what expires is the grant less what jobs spent since it
    arrived, and never more than the balance: credits = clamp(grant − net job spending since the grant, 0, balance).
    """
    from django.utils import timezone

    now = now or timezone.now()
    expired = 0
    due = LedgerEntry.objects.filter(kind=EntryKind.GRANT, expires_at__lte=now, user__isnull=False).exclude(
        Exists(LedgerEntry.objects.filter(idempotency_key=Concat(Value("expiry:"), Cast(OuterRef("pk"), CharField()))))
    )
    for grant in due.order_by("expires_at", "pk").iterator():
        with transaction.atomic():
            get_user_model().objects.select_for_update().filter(pk=grant.user_id).first()
            spent = -(
                LedgerEntry.objects.filter(
                    user_id=grant.user_id,
                    kind__in=(EntryKind.RESERVE, EntryKind.RELEASE),
                    created_at__gte=grant.created_at,
                    created_at__lt=grant.expires_at,
                ).aggregate(total=Sum("delta"))["total"]
                or 0
            )
            left = min(max(grant.credits - spent, 0), max(credit_balance(user=grant.user), 0))
            entry = _append(
                user=grant.user,
                kind=EntryKind.EXPIRY,
                credits=left,
                delta=-left,
                key=f"expiry:{grant.pk}",
                memo=f"unspent monthly credits ({grant.memo})" if grant.memo else "unspent monthly credits",
            )
            expired += entry is not None
    return expired


def credits_reserve(*, job, credits: int) -> None:
    """Holds credits for a job. The caller must hold the owner's row lock inside its transaction."""
    if credits == 0:
        return  # free work leaves no ledger rows: nothing is held, so nothing is captured or released
    owed = credit_debt(user=job.owner)
    if owed > 0:
        raise CreditsOwed(needed=credits, available=owed)
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
    key = Concat(Value("grant:"), Cast(OuterRef("pk"), CharField()), Value(f":{period}"))
    granted_already = LedgerEntry.objects.filter(idempotency_key=key)
    due = get_user_model().objects.filter(is_active=True, closed_at__isnull=True).exclude(Exists(granted_already))
    if settings.STRIPE_API_KEY:
        # With payments on, a paid plan's allowance comes with each paid invoice (billing), not with the calendar.
        due = due.exclude(plan__in=list(settings.PLAN_PRICES))
    granted = 0
    for user in due.iterator():
        if credits_grant_monthly(user=user, period=period) is not None:
            granted += 1
    return granted
