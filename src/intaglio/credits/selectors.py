from django.db.models import Sum

from intaglio.credits.models import LedgerEntry


def credit_balance(*, user) -> int:
    """Available credits: the sum of every entry's effect."""
    return LedgerEntry.objects.filter(user=user).aggregate(total=Sum("delta"))["total"] or 0


def credit_history(*, user):
    """Ledger entries, newest first (the caller slices or paginates)."""
    return LedgerEntry.objects.filter(user=user).select_related("job").order_by("-created_at", "-id")
