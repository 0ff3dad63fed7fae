"""Internal review (E13): a reviewer's verdict on a photo of an engraved piece (a customer's own photo or a
workshop capture), read only while its owner allows `internal_review`.

A verdict judges three things, each valid or not: the style the artwork used, the material it was burned on and the
machine settings. The reviewer's identity stays here and in the audit log; the owner's export shows the verdict
without it. Verdicts go with their photo (deleted, expired or erased)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Verdict(models.Model):
    asset = models.ForeignKey("assets.Asset", on_delete=models.CASCADE, related_name="review_verdicts")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    style_valid = models.BooleanField()
    material_valid = models.BooleanField()
    settings_valid = models.BooleanField()
    note = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"verdict on {self.asset_id}"

    @property
    def valid(self) -> bool:
        return self.style_valid and self.material_valid and self.settings_valid
