"""The community gallery: finished work an owner chose to publish (E14), with its recipe, and the reports and
moderation decisions about it.

An item's pictures are copies made at publication, re-encoded from pixels (no EXIF, XMP, ICC or text chunks), kept
under their own random keys and served only by the gallery's own route, which checks the publication on every
request (never through the assets' signed links). Unpublishing deletes the item and its copies, so nothing of it
stays reachable."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_public_id() -> str:
    """96 random bits: a public address reveals neither the owner nor how many items exist."""
    return secrets.token_urlsafe(12)


class ModerationState(models.TextChoices):
    VISIBLE = "visible", "Visible"
    HIDDEN = "hidden", "Hidden by a moderator"


class GalleryItem(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gallery_items")
    public_id = models.CharField(max_length=20, unique=True, default=new_public_id, editable=False)
    # The version it shows; kept as a link only for the owner's pages. Deleting the version unpublishes the item.
    version = models.ForeignKey("engrave.ArtworkVersion", on_delete=models.CASCADE, related_name="gallery_items")
    # The artwork file whose gallery_publish consent this item is (E14): unpublished there, hidden here.
    artwork_asset = models.ForeignKey("assets.Asset", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=80)
    story = models.TextField(max_length=1000, blank=True)
    # The settings a visitor may start from, without the owner's machine profile or calibration measurements.
    recipe = models.JSONField()
    material = models.CharField(max_length=40)
    machine_kind = models.CharField(max_length=10)
    moderation = models.CharField(max_length=10, choices=ModerationState.choices, default=ModerationState.VISIBLE)
    published_at = models.DateTimeField(default=timezone.now)
    # Where each copy was made from: [{"role", "position", "asset_id"}], asset_id None for a photo uploaded only
    # here. A moderator's hide deletes the copies whose original the owner still keeps; a restore makes them again.
    origins = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["material", "machine_kind"])]
        constraints = [models.UniqueConstraint(fields=["version"], name="gallery_item_one_per_version")]

    def __str__(self) -> str:
        return f"gallery item {self.public_id}"


class ImageRole(models.TextChoices):
    ARTWORK = "artwork", "Artwork"
    BURN_PREVIEW = "burn_preview", "Simulated burn"
    PHOTO = "photo", "Photo of the burn"
    SOURCE = "source", "Original photo"


class GalleryImage(models.Model):
    item = models.ForeignKey(GalleryItem, on_delete=models.CASCADE, related_name="images")
    public_id = models.CharField(max_length=20, unique=True, default=new_public_id, editable=False)
    role = models.CharField(max_length=20, choices=ImageRole.choices)
    position = models.PositiveSmallIntegerField(default=0)
    # The stored copy (kind gallery_image): an asset of the owner's, so the storage scan, the export and erasure
    # know it like any other file. Deleting the image deletes the copy (gallery.apps connects that).
    asset = models.OneToOneField("assets.Asset", on_delete=models.CASCADE, related_name="gallery_image")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.role} of {self.item_id}"


class ReportReason(models.TextChoices):
    UNSAFE_SETTINGS = "unsafe_settings", "Unsafe laser settings"
    NOT_THEIRS = "not_theirs", "Someone else's work"
    PERSONAL_DATA = "personal_data", "Personal data"
    OFFENSIVE = "offensive", "Offensive"


class ReportState(models.TextChoices):
    OPEN = "open", "Waiting for a moderator"
    HIDDEN = "hidden", "Item hidden"
    DISMISSED = "dismissed", "Dismissed"


class Report(models.Model):
    item = models.ForeignKey(GalleryItem, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gallery_reports")
    reason = models.CharField(max_length=20, choices=ReportReason.choices)
    details = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=ReportState.choices, default=ReportState.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "reporter"], condition=models.Q(state="open"), name="gallery_one_open_report_each"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reason} on {self.item_id}"


class ModerationAction(models.TextChoices):
    HIDE = "hide", "Hidden"
    RESTORE = "restore", "Restored"
    DISMISS = "dismiss", "Reports dismissed"


class ModerationDecision(models.Model):
    """A moderator's decision on an item, with the note the owner reads. The moderator's identity stays in the
    audit log; the owner sees the outcome and the note."""

    item = models.ForeignKey(GalleryItem, on_delete=models.CASCADE, related_name="decisions")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=10, choices=ModerationAction.choices)
    note = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    # When the owner saw it on their gallery page (None: still to be shown as news).
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} of {self.item_id}"
