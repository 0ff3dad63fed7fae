"""The credit ledger: append-only; a balance is always the sum of its entries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class EntryKind(models.TextChoices):
    GRANT = "grant"  # monthly allowance
    PURCHASE = "purchase"
    RESERVE = "reserve"  # held when a job is created
    CAPTURE = "capture"  # the job succeeded: the held credits are spent
    RELEASE = "release"  # the job failed or was cancelled: the held credits come back
    EXPIRY = "expiry"  # the unspent part of a monthly grant, at the end of its period
    REFUND = "refund"  # a payment was refunded: the credits it brought are taken back
    REVERSAL = "reversal"  # a payment was disputed (chargeback): the credits it brought are taken back
    SETTLEMENT = "settlement"  # credits that arrived while the account owed some pay the debt first


class LedgerEntry(models.Model):
    """One credit movement. Billing class (J22): kept RETENTION_LEDGER_YEARS, pseudonymised when the account is purged.

    Pseudonymising sets `user` to NULL and `subject_ref` to a keyed digest of the former user id (the privacy
    app's ledger_subject_ref, handed to credits/personal_data.py), so the rows still add up per (former) account
    for billing and audit without naming anyone. PROTECT stays: an account with ledger rows cannot be deleted by
    accident (from the admin, say); only the purge, which pseudonymises first, removes it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    # HMAC-SHA256 of the former user id under SECRET_KEY, set at pseudonymisation; empty while the account exists.
    subject_ref = models.CharField(max_length=64, blank=True, db_index=True)
    pseudonymised_at = models.DateTimeField(null=True, blank=True)
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="ledger_entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    credits = models.PositiveIntegerField(help_text="How many credits the entry is about.")
    delta = models.IntegerField(help_text="Its effect on the available balance (capture: 0, already held).")
    # One entry per (job, kind) or per (user, grant period): a retried call writes nothing new.
    idempotency_key = models.CharField(max_length=120, unique=True)
    memo = models.CharField(max_length=200, blank=True)
    # A refund or reversal takes at most the available balance (which never goes negative); what it could not take
    # is owed, and credits that arrive later settle it first. An account that owes credits starts no paid job.
    shortfall = models.PositiveIntegerField(default=0)
    # A monthly grant's credits expire at the end of the period they were granted for (None: they never do).
    expires_at = models.DateTimeField(null=True, blank=True)
    # The payment provider's object the entry is about (a checkout session, an invoice, a charge) and, for a
    # payment, the receipt the provider hosts. Never anything about the card.
    reference = models.CharField(max_length=120, blank=True, db_index=True)
    invoice_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            # A row leaves its account only by pseudonymisation: no user means a subject reference.
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(subject_ref=""), name="ledger_user_or_subject_ref"
            )
        ]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.kind} {self.delta:+d} ({self.idempotency_key})"

    def save(self, *args, **kwargs):
        # Append-only: an entry is never rewritten (pseudonymisation is a deliberate queryset update).
        if self.pk is not None:
            raise ValueError("ledger entries are append-only")
        super().save(*args, **kwargs)
