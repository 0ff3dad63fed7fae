"""What Intaglio keeps about payments: the account's Stripe customer and subscription, each payment, and the ids
of the webhook events already handled. The credits themselves are in the one ledger (credits.LedgerEntry).

No card detail has a field here or anywhere (J31): Checkout and the Customer Portal are Stripe's pages.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_reference() -> str:
    """The opaque reference Stripe knows the account by (in metadata), instead of our user id."""
    return secrets.token_hex(12)


class BillingAccount(models.Model):
    """An account's link to Stripe and the state of its subscription, as last read from Stripe.

    Billing class (J22): kept RETENTION_LEDGER_YEARS, pseudonymised (user → subject_ref) when the account is purged.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="billing_account"
    )
    subject_ref = models.CharField(max_length=64, blank=True, db_index=True)
    pseudonymised_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=32, unique=True, default=new_reference)
    customer_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    subscription_id = models.CharField(max_length=64, blank=True)
    subscription_status = models.CharField(max_length=24, blank=True)
    plan = models.CharField(max_length=20, blank=True, help_text="The plan the subscription pays for.")
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    past_due_since = models.DateTimeField(null=True, blank=True)
    # When the subscription state was last written: a reader that fetched before this reads Stripe again.
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(subject_ref=""), name="billing_user_or_subject_ref"
            )
        ]

    def __str__(self) -> str:
        return f"billing {self.reference} ({self.subscription_status or 'no subscription'})"


class PaymentKind(models.TextChoices):
    SUBSCRIPTION = "subscription"  # a paid subscription invoice (creation or renewal)
    PACK = "pack"  # a one-off credit pack


class PaymentStatus(models.TextChoices):
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


class Payment(models.Model):
    """One payment that brought credits. Billing class (J22), pseudonymised at purge like the ledger."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    subject_ref = models.CharField(max_length=64, blank=True, db_index=True)
    pseudonymised_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=12, choices=PaymentKind.choices)
    # The Checkout session (a pack) or the invoice (a subscription period) that was paid.
    stripe_id = models.CharField(max_length=120, unique=True)
    payment_intent = models.CharField(max_length=120, blank=True, db_index=True)
    product = models.CharField(max_length=40, help_text="The plan or pack key.")
    credits = models.PositiveIntegerField()
    amount = models.PositiveIntegerField(help_text="In the currency's minor unit, as Stripe counts it.")
    currency = models.CharField(max_length=3)
    amount_refunded = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PAID)
    invoice_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(subject_ref=""), name="payment_user_or_subject_ref"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.product} {self.amount} {self.currency} ({self.status})"


class StripeEvent(models.Model):
    """A webhook event already handled: its id, type and the object it was about, never its payload (which may
    describe a card's brand or country, or an address)."""

    event_id = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=120, blank=True)
    outcome = models.CharField(max_length=20)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} ({self.outcome})"
