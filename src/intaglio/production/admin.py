"""The operator's view of production: orders and who in the workshop works on each. Assigning is the one change
made here; everything else an order holds comes from its owner or the workshop."""

from django.contrib import admin, messages

from intaglio.production.models import Order
from intaglio.production.services import ProductionRefused, order_assign


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "state", "assigned_to", "created_at", "changed_at")
    list_filter = ("state",)
    search_fields = ("number",)
    fields = ("number", "state", "cancel_reason", "note", "version", "assigned_to", "created_at", "changed_at")
    readonly_fields = ("number", "state", "cancel_reason", "note", "version", "created_at", "changed_at")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        """Assigning goes through the service, which checks the workshop role and audits it."""
        if "assigned_to" in form.changed_data:
            try:
                order_assign(order=obj, worker=obj.assigned_to, actor=request.user)
            except ProductionRefused as refused:
                messages.error(request, refused.message)
