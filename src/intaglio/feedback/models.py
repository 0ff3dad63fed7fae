"""Feedback from real burns: photos of finished engravings, each related to the artwork version it was burned from
(E9), with what measuring it found."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class BurnReport(models.Model):
    """*How did it burn?*: one photo of a finished piece, aligned to its version's simulated burn and measured.

    It lives exactly as long as its photo: the photo is private feedback (14 days, or while `engraved_learning` is
    on; E12), and the report's numbers go with it. Only derived metrics kept under `derived_only` outlive it (E7).
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="burn_reports")
    version = models.ForeignKey("engrave.ArtworkVersion", on_delete=models.CASCADE, related_name="burn_reports")
    photo = models.ForeignKey("assets.Asset", on_delete=models.CASCADE, related_name="burn_reports")
    # The measuring job; its outputs are the report's pictures (side by side, difference map).
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Scalar results (BurnReport.metrics of imaging) and the advice in plain words; empty until measured.
    metrics = models.JSONField(default=dict, blank=True)
    advice = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"How {self.version} burned ({self.created_at:%Y-%m-%d})"
