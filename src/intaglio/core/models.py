"""The floor's records: the audit log and the periodic scheduler's claims."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnly(models.Model):
    """Rows are written once: history that can be rewritten proves nothing."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)


class AuditEvent(AppendOnly):
    """Who did what to which object, when; never content (no pictures, prompts, file names or e-mail bodies)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=20, help_text="customer, staff, system, …")
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=40, blank=True)
    # The account the action concerns, as an id (kept when the account row is purged).
    subject_user_id = models.PositiveBigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "privacy_auditevent"  # where it was created; the model moved here without a data migration
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["action", "-at"]), models.Index(fields=["subject_user_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class PeriodicRun(models.Model):
    """One row per periodic task and period. The unique pair is what makes a period run exactly once,
    however many scheduler processes are ticking."""

    name = models.CharField(max_length=60)
    period = models.CharField(max_length=40)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "jobs_periodicrun"  # where it was created; the model moved here without a data migration
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["name", "period"], name="periodic_run_once_per_period")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.period}"


class RateCounter(models.Model):
    """One rate-limit counter (intaglio.core.ratelimit's "database" store, used on PostgreSQL)."""

    key = models.CharField(max_length=200, primary_key=True)
    window_number = models.BigIntegerField()
    count = models.IntegerField()
    window_end = models.BigIntegerField(db_index=True, help_text="Epoch seconds; ended windows are swept.")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
