from django.db.models import Sum

from intaglio.credits.models import EntryKind, LedgerEntry


def credit_balance(*, user) -> int:
    """Available credits: the sum of every entry's effect."""
    return LedgerEntry.objects.filter(user=user).aggregate(total=Sum("delta"))["total"] or 0


def credit_debt(*, user) -> int:
    """Credits the account owes: what refunds and reversals could not take, less what settlements paid since."""
    rows = LedgerEntry.objects.filter(user=user)
    owed = rows.filter(kind__in=(EntryKind.REFUND, EntryKind.REVERSAL)).aggregate(total=Sum("shortfall"))["total"]
    paid = rows.filter(kind=EntryKind.SETTLEMENT).aggregate(total=Sum("credits"))["total"]
    return (owed or 0) - (paid or 0)


def credit_history(*, user):
    """Ledger entries, newest first (the caller slices or paginates)."""
    return LedgerEntry.objects.filter(user=user).select_related("job").order_by("-created_at", "-id")
