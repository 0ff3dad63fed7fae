"""Engrave studio records: a user's artworks with their versions, and their own machines and material presets.

The files themselves are assets: an artwork points at its source photo, each version at the prepare job whose
outputs are that version's files.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from intaglio.engrave.params import MachineSpec


class LaserKind(models.TextChoices):
    DIODE = "diode", "Diode"
    CO2 = "co2", "CO₂"
    FIBRE = "fibre", "Fibre"
    GALVO = "galvo", "Galvo (fibre source)"


class MachineProfile(models.Model):
    """A user's own laser, described with the numbers the engine needs."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="machine_profiles")
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=LaserKind.choices)
    power_w = models.FloatField()
    spot_mm = models.FloatField()
    line_interval_mm = models.FloatField()
    max_feed_mm_min = models.FloatField()
    work_area_w_mm = models.FloatField()
    work_area_h_mm = models.FloatField()
    s_max = models.PositiveIntegerField(default=1000)
    min_power_pct = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="machine_profile_name_per_owner")]

    def __str__(self) -> str:
        return self.name

    def machine_spec(self) -> MachineSpec:
        """This machine as settings carry it, frozen into a job's parameters: the one conversion from a profile
        (`MachineSpec.engine_machine()` then gives the machine the engine takes). Not validated here: settings
        validate it where they use it (services.settings_validate)."""
        return MachineSpec.model_construct(
            label=self.name,
            kind=self.kind,
            power_w=self.power_w,
            spot_mm=self.spot_mm,
            line_interval_mm=self.line_interval_mm,
            max_feed_mm_min=self.max_feed_mm_min,
            work_area_mm=(self.work_area_w_mm, self.work_area_h_mm),
            s_max=self.s_max,
            min_power_pct=self.min_power_pct,
        )

    def spec(self) -> dict:
        """`machine_spec` as JSON, as settings store it."""
        return self.machine_spec().model_dump(mode="json")


class MaterialPreset(models.Model):
    """A user's named starting point: a library material with their own mode, adjustments and line interval."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="material_presets")
    name = models.CharField(max_length=60)
    material = models.CharField(max_length=40)
    mode = models.CharField(max_length=20, default="floyd-steinberg")
    line_interval_mm = models.FloatField(null=True, blank=True)
    adjustments = models.JSONField(default=dict, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="material_preset_name_per_owner")]

    def __str__(self) -> str:
        return self.name


class Artwork(models.Model):
    """One picture being turned into laser files; its versions are the files made with each group of settings."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artworks")
    title = models.CharField(max_length=120)
    # The photo it starts from. It may expire or be deleted (privacy retention); the versions' files stay.
    source = models.ForeignKey(
        "assets.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="artworks"
    )
    # The settings last previewed or prepared, so the studio opens where the user left it.
    settings = models.JSONField(default=dict, blank=True)
    # The latest style-gallery job (each style rendered on the photo).
    styles_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["owner", "-updated_at"])]

    def __str__(self) -> str:
        return self.title


class ArtworkVersion(models.Model):
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    settings = models.JSONField()
    # The prepare job whose outputs are this version's files (None once that job was deleted).
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["artwork", "number"], name="artwork_version_number")]

    def __str__(self) -> str:
        return f"{self.artwork} v{self.number}"


class CalibrationProfile(models.Model):
    """What a burned test card measured for one of the owner's material × machine × mode × line interval.

    The studio, its preview and prepare use it instead of the library's assumption when the settings match
    (services.settings_validate); each version's settings keep the numbers it was made with."""

    class Source(models.TextChoices):
        CARD = "card", "Your test card"
        SHARED = "shared", "Other makers' measurements"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calibration_profiles")
    # Where the numbers come from: a card the owner burned and read, or the shared guidance they started from.
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CARD)
    material = models.CharField(max_length=40)
    # A library machine's name, or "mine:<id>" for one of the owner's machines (MachineProfile).
    machine = models.CharField(max_length=40)
    machine_label = models.CharField(max_length=60)
    machine_kind = models.CharField(max_length=10, choices=LaserKind.choices)
    mode = models.CharField(max_length=20)
    line_interval_mm = models.FloatField()
    mark_diameter_mm = models.FloatField()
    # [[marked area, effective coverage], …]: darkness by marked area (imaging's Calibration.tone).
    tone = models.JSONField(default=list)
    # [[card target, measured effective coverage], …]: the wedge as read, for the plot against the assumption.
    tone_response = models.JSONField(default=list)
    # [{"power_pct", "speed_mm_min", "darkness"}, …]: the power × speed grid as read.
    grid = models.JSONField(default=list)
    power_pct = models.FloatField(null=True, blank=True)
    speed_mm_min = models.FloatField(null=True, blank=True)
    residual = models.FloatField(default=0)
    registration_rms_px = models.FloatField(default=0)
    # The card reading it was made from (None once that job was deleted).
    read_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The largest tone error a verify card burned with this profile showed (0–1 of the range), and when.
    verify_error = models.FloatField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["material", "machine", "mode", "line_interval_mm"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "material", "machine", "mode", "line_interval_mm"], name="calibration_per_setup"
            )
        ]

    def __str__(self) -> str:
        return f"{self.material} on {self.machine_label}, {self.mode}, {self.line_interval_mm:g} mm"
