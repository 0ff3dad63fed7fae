from django.contrib import admin

from intaglio.billing.models import BillingAccount, Payment, StripeEvent
from intaglio.core.admin import ReadOnlyAdmin


@admin.register(BillingAccount)
class BillingAccountAdmin(ReadOnlyAdmin):
    list_display = ["reference", "user", "plan", "subscription_status", "current_period_end", "cancel_at_period_end"]
    list_filter = ["subscription_status", "plan"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "product", "credits", "amount", "currency", "status"]
    list_filter = ["kind", "status"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "event_id", "object_id", "outcome"]
    list_filter = ["type", "outcome"]
