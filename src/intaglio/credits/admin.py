from django.contrib import admin

from intaglio.credits.models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger is append-only."""

    list_display = ["created_at", "user", "kind", "credits", "delta", "job"]
    list_filter = ["kind"]
    search_fields = ["user__email", "idempotency_key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
