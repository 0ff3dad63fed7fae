"""Jewellery studio records: a piece (its reference images, what analysis found and what the user confirmed), its
generations (each one job whose outputs are the images), and the bookkeeping of remote predictions and webhooks.

The files are assets: references are the piece's uploads, generated images are outputs of a generation's job.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Piece(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jewellery_pieces")
    title = models.CharField(max_length=80, blank=True)
    references = models.ManyToManyField("assets.Asset", related_name="reference_of")
    analysis_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The attributes as the user confirmed or edited them (None until then); prompts are built from these.
    attributes = models.JSONField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The step-3 choices (a Brief) as the user last left them, so they survive a reload; None until then.
    brief = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.title or f"Piece #{self.pk}"


class StyleKit(models.Model):
    """A catalogue's look, saved once and applied to many pieces: the step-3 choices (a Brief) under a name."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jewellery_kits")
    name = models.CharField(max_length=60)
    brief = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="style_kit_name_once_per_owner")]

    def __str__(self) -> str:
        return self.name


class Batch(models.Model):
    """One confirmed order of generations across several pieces, with one brief (usually a style kit's) and one
    total price. Its generations start as the plan's concurrency allows (`pending` holds the pieces not started)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jewellery_batches")
    kit_name = models.CharField(max_length=60, blank=True)
    brief = models.JSONField()
    piece_ids = models.JSONField()  # every piece of the batch, in order
    pending = models.JSONField(default=list)  # pieces whose generation has not started yet
    # Why pieces were left out once started (e.g. the credits ran short): {piece id: reason}.
    skipped = models.JSONField(default=dict, blank=True)
    credits = models.PositiveIntegerField()  # the total price the owner confirmed
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "idempotency_key"], name="jewellery_batch_key_once_per_owner")
        ]

    def __str__(self) -> str:
        return f"Batch #{self.pk} ({len(self.piece_ids)} pieces)"


class Generation(models.Model):
    piece = models.ForeignKey(Piece, on_delete=models.CASCADE, related_name="generations")
    # Deleting the job (and with it its images) deletes the generation.
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="jewellery_generation")
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="generations")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Generation #{self.pk} of piece #{self.piece_id}"


class TaskStatus(models.TextChoices):
    PENDING = "pending"  # not sent yet (waiting for a free slot)
    SUBMITTING = "submitting"  # the submit request is on its way; if we crash here it is never sent again
    CREATED = "created"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    UNCERTAIN = "uncertain"  # the submit may or may not have reached the provider


IN_FLIGHT = (TaskStatus.SUBMITTING, TaskStatus.CREATED, TaskStatus.PROCESSING)


class ProviderTask(models.Model):
    """One image of a generation at a remote provider: its prediction id, status and result links."""

    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="provider_tasks")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveSmallIntegerField()
    provider = models.CharField(max_length=20)
    prediction_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    output_urls = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="provider_task_once_per_image")]
        indexes = [models.Index(fields=["provider", "prediction_id"]), models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.prediction_id or '(not sent)'} ({self.status})"


class WebhookDelivery(models.Model):
    """Each verified webhook delivery once (its id is unique), so a repeated delivery changes nothing."""

    provider = models.CharField(max_length=20)
    delivery_id = models.CharField(max_length=200)
    prediction_id = models.CharField(max_length=100)
    outcome = models.CharField(max_length=20)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "delivery_id"], name="webhook_delivery_once")]

    def __str__(self) -> str:
        return f"{self.provider} delivery {self.delivery_id} ({self.outcome})"


class DesignCheck(models.Model):
    """How well one image from a remote generator kept the piece's design (imaging.jewellery.preservation): its
    score, what seems to have changed, and the one free regeneration a flagged image may have."""

    image = models.OneToOneField("assets.Asset", on_delete=models.CASCADE, related_name="design_check")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="design_checks")
    score = models.FloatField(help_text="0..1; 1: the design is kept.")
    # What changed, in words for the user ("a stone is missing near the top"); empty when nothing was found.
    changes = models.JSONField(default=list, blank=True)
    flagged = models.BooleanField(default=False)
    measures = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(default=timezone.now)
    # The free regeneration made for this image (one-to-one: a second one cannot exist).
    regeneration = models.OneToOneField(
        Generation, null=True, blank=True, on_delete=models.SET_NULL, related_name="regenerates"
    )

    class Meta:
        ordering = ["generation", "image"]

    def __str__(self) -> str:
        return f"Design check of image #{self.image_id}: {self.score:.2f}{' (flagged)' if self.flagged else ''}"

    @property
    def notice(self) -> str:
        """What the studio and the API say about a flagged image; empty when the design seems kept."""
        if not self.flagged:
            return ""
        return "The design may have changed: " + "; ".join(self.changes or ["it differs from the references"]) + "."

    @property
    def free_regeneration_open(self) -> bool:
        """Flagged, not made again yet, and not itself a free regeneration."""
        params = self.generation.job.params or {}
        return self.flagged and self.regeneration_id is None and params.get("regenerates") is None
