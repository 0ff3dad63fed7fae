"""Assets: one stored file each. The database keeps the key and facts about the file; the bytes live in storage."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class AssetKind(models.TextChoices):
    SOURCE_PHOTO = "source_photo", "Uploaded photo"
    REFERENCE_IMAGE = "reference_image", "Reference image"
    ENGRAVED_RESULT = "engraved_result", "Photo of an engraving"
    ARTWORK = "artwork", "Artwork"
    GENERATED_IMAGE = "generated_image", "Generated image"
    PREVIEW = "preview", "Preview"
    EXPORT = "export", "Export"
    # A copy made for the community gallery, re-encoded without metadata; deleted when the item is unpublished.
    GALLERY_IMAGE = "gallery_image", "Gallery picture"
    # A photo of an engraved piece taken in the operator's workshop for a production order; treated like a photo of
    # an engraving for consent and retention.
    FACTORY_CAPTURE = "factory_capture", "Workshop photo"


class RetentionClass(models.TextChoices):
    # How long a file may be kept; the retention sweeper reads it together with expires_at.
    PRIVATE_UPLOAD = "private_upload", "Private upload"
    PRIVATE_FEEDBACK = "private_feedback", "Private feedback"
    # Artwork and generated outputs: kept while the account is active, until the user deletes them (J16).
    ACCOUNT_CONTENT = "account_content", "Account content"


def new_storage_key() -> str:
    """160 random bits; never derived from anything the user sent, so a key reveals nothing."""
    return f"blobs/{secrets.token_hex(20)}"


class Asset(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(max_length=20, choices=AssetKind.choices)
    # Which of a job's outputs this is, e.g. "thumbnail" or "web" for previews; empty for uploads.
    role = models.CharField(max_length=30, blank=True)
    storage_key = models.CharField(max_length=100, unique=True, default=new_storage_key, editable=False)
    mime = models.CharField(max_length=60)
    sha256 = models.CharField(max_length=64)
    bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # The owner's name for an upload: the uploaded file's name, cleaned (assets.names), and renamable; empty for the
    # files jobs make. Personal data: exported with the file, erased with it, never logged.
    title = models.CharField(max_length=120, blank=True)
    # The name downloads are offered under, built by us from the title (e.g. "my-dog.jpg", "my-dog-thumbnail.jpg").
    download_name = models.CharField(max_length=120)
    retention_class = models.CharField(max_length=20, choices=RetentionClass.choices)
    expires_at = models.DateTimeField(null=True, blank=True)
    legal_hold = models.BooleanField(default=False)
    # Shared in the gallery by its owner (E6): the sweeper leaves it while published.
    published_at = models.DateTimeField(null=True, blank=True)
    # Kept as a curated training asset under broad-learning consent (E6).
    curated = models.BooleanField(default=False)
    # The job whose work wrote this file (outputs); None for uploads.
    produced_by = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="outputs"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "kind"]), models.Index(fields=["retention_class", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
