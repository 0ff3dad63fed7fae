from django.contrib import admin

from intaglio.core.admin import ReadOnlyAdmin
from intaglio.credits.models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Read-only: the ledger is append-only."""

    list_display = ["created_at", "user", "kind", "credits", "delta", "job"]
    list_filter = ["kind"]
    search_fields = ["user__email", "idempotency_key"]
