"""Jobs: the unit of work a user sees, with its state machine."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING_PROVIDER = "waiting_provider"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})

# Every allowed move; anything else is a bug and raises.
TRANSITIONS: dict[str, frozenset[str]] = {
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELLED, JobState.FAILED}),
    JobState.RUNNING: frozenset(
        {JobState.WAITING_PROVIDER, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.QUEUED}
    ),
    JobState.WAITING_PROVIDER: frozenset({JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}


class Job(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=40)
    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.QUEUED)
    params = models.JSONField(default=dict)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    error_message = models.CharField(max_length=500, blank=True, help_text="Shown to the user.")
    error_detail = models.TextField(blank=True, help_text="Internal only: never shown to the user.")
    provider_ref = models.CharField(max_length=200, blank=True)
    # A small JSON answer some kinds give besides files (e.g. what analysis found); never image data.
    result = models.JSONField(null=True, blank=True)
    credits_reserved = models.PositiveIntegerField(default=0)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    inputs = models.ManyToManyField("assets.Asset", blank=True, related_name="input_of")
    # Fencing token of the attempt that holds the lease; a worker whose token no longer matches has lost the
    # job to another worker and must not write anything.
    lease_token = models.CharField(max_length=32, blank=True)
    # The queue entry (django-tasks-db result id) that will run, or is running, this job.
    task_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "idempotency_key"], name="job_idempotency_per_owner"),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_0_100"),
        ]
        indexes = [models.Index(fields=["state", "lease_until"]), models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"
