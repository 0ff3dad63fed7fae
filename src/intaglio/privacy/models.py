"""Privacy records: consent history, derived metrics, retention decisions, data-rights requests and policy
versions. Each is the mechanism behind clauses of PRIVACY-SPEC.md (E…, J…)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from intaglio.core.models import AppendOnly


class ConsentScope(models.TextChoices):
    DERIVED_ONLY = "derived_only", "Keep measurements (no pictures)"
    BROAD_LEARNING = "broad_learning", "Learn from my engraving pictures"
    ENGRAVED_LEARNING = "engraved_learning", "Learn from photos of my engravings"
    INTERNAL_REVIEW = "internal_review", "Let the team review my engravings"
    GALLERY_PUBLISH = "gallery_publish", "Publish this item in the gallery"


class ConsentEvent(AppendOnly):
    """One grant or withdrawal. The current state of a scope is its newest event (none = not given)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_events")
    scope = models.CharField(max_length=30, choices=ConsentScope.choices)
    granted = models.BooleanField()
    # gallery_publish is per item: the asset published or unpublished.
    asset = models.ForeignKey("assets.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notice_version = models.CharField(max_length=20, help_text="The privacy notice version shown at the time.")
    source = models.CharField(max_length=40, help_text="Where it was given: a page name, 'api', or 'system'.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "scope", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.scope} {'granted' if self.granted else 'withdrawn'} by user {self.user_id}"


class DerivedMetric(models.Model):
    """A scalar measurement kept under `derived_only` consent (E7, E8): a number or a short label, never pixels.

    It does not reference its source asset by foreign key, so deleting the photo leaves it (that is the point of
    the consent); withdrawing the consent purges it."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="derived_metrics")
    key = models.CharField(max_length=40)
    number = models.FloatField(null=True, blank=True)
    label = models.CharField(max_length=32, blank=True)
    consent = models.ForeignKey(ConsentEvent, on_delete=models.PROTECT, related_name="metrics")
    source_asset_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "key"]), models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.key}={self.number if self.number is not None else self.label}"


class RetentionDecision(models.Model):
    """What the sweeper decided about one expired item, and why (E4, E5)."""

    class Outcome(models.TextChoices):
        DELETED = "deleted"
        SKIPPED = "skipped"

    item_type = models.CharField(max_length=30, default="asset")
    item_id = models.PositiveBigIntegerField()
    retention_class = models.CharField(max_length=30)
    expires_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=60, blank=True)
    # deleted_at − expires_at for deletions: the sweep lag E5 bounds.
    lag_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["item_type", "item_id"]), models.Index(fields=["outcome", "-decided_at"])]

    def __str__(self) -> str:
        return f"{self.outcome} {self.item_type}:{self.item_id} {self.reason}".strip()


class DataRequest(models.Model):
    """A data-rights request (J24–J29) and its deadline."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access / export"
        RECTIFY = "rectify", "Rectification"
        ERASE = "erase", "Erasure"
        RESTRICT = "restrict", "Restriction"
        OBJECT = "object", "Objection"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        REFUSED = "refused", "Refused"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="data_requests"
    )
    email = models.EmailField(help_text="Who asked; kept with the record for its retention period.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel = models.CharField(max_length=20, help_text="self_service, request_form or staff")
    details = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, help_text="What was done, or why it was refused.")

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk} ({self.status})"


class PolicyVersion(models.Model):
    """A published version of the privacy notice (E16, J32)."""

    version = models.CharField(max_length=20, unique=True)
    published_at = models.DateTimeField(default=timezone.now)
    material = models.BooleanField(default=False, help_text="Material changes are e-mailed to every open account.")
    summary = models.TextField(help_text="What changed, in plain words (shown and e-mailed).")

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.version


class PolicyNotification(models.Model):
    """One e-mail per (user, version): the unique pair makes sending idempotent (J32)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="notifications")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="policy_notice_once_per_user")]

    def __str__(self) -> str:
        return f"{self.version} to user {self.user_id}"


class AccessCode(models.Model):
    """A one-time code e-mailed to an account's address, for data-rights requests from people who cannot log in."""

    email = models.EmailField()
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["email", "-created_at"])]

    def __str__(self) -> str:
        return f"code for {self.email}"
