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
    EXPIRY = "expiry"


class LedgerEntry(models.Model):
    # PROTECT: ledger rows outlive deletions; the privacy work pseudonymises them instead (billing class).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries")
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="ledger_entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    credits = models.PositiveIntegerField(help_text="How many credits the entry is about.")
    delta = models.IntegerField(help_text="Its effect on the available balance (capture: 0, already held).")
    # One entry per (job, kind) or per (user, grant period): a retried call writes nothing new.
    idempotency_key = models.CharField(max_length=120, unique=True)
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.kind} {self.delta:+d} ({self.idempotency_key})"
