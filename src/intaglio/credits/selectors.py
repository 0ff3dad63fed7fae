from django.db.models import Sum

from intaglio.credits.models import LedgerEntry


def credit_balance(*, user) -> int:
    """Available credits: the sum of every entry's effect."""
    return LedgerEntry.objects.filter(user=user).aggregate(total=Sum("delta"))["total"] or 0
