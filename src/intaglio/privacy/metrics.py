"""Derived metrics: the measurements a person lets us keep after the photo they came from is gone (E7, E8).

A metric is one allow-listed key with a finite number inside the key's bounds, or a short label from the key's
list; nothing else can be stored (no bytes, base64 text, arrays, dicts, long strings, NaN), so a metric can never
carry pixels. Keeping one requires an active `derived_only` grant at write time, and the row points at that grant.
The source asset is remembered by id only (no foreign key): deleting the photo leaves the measurement, withdrawing
the consent deletes every measurement of that account at once (consent_withdraw calls consent.metrics_purge).
Without the consent nothing is kept, so no measurement outlives the raw file. Each row expires after
RETENTION_DERIVED_METRIC_DAYS (24 months by default); the retention sweeper (privacy.retention) removes it then,
and learning never reads an expired one (metrics_usable).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from intaglio.assets.models import Asset
from intaglio.imaging.artwork import machines, materials
from intaglio.privacy.consent import JEWELLERY_KINDS, consent_active, consent_lock, users_consenting
from intaglio.privacy.models import ConsentScope, DerivedMetric

LABEL_MAX_CHARS = 32  # DerivedMetric.label's size


@dataclass(frozen=True)
class MetricSpec:
    key: str
    description: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    # For labels: the allowed values (read when checked, so library changes apply).
    choices: Callable[[], Iterable[str]] | None = None

    @property
    def is_label(self) -> bool:
        return self.choices is not None


def _burn_results() -> tuple[str, ...]:
    return ("under", "good", "over")


METRICS: dict[str, MetricSpec] = {
    spec.key: spec
    for spec in (
        MetricSpec("contrast_ratio", "Contrast between burned and unburned areas", "", 0, 100),
        MetricSpec("alignment_error_mm", "How far the burn sits from the artwork", "mm", 0, 50),
        MetricSpec("quality_score", "Overall match between burn and artwork", "", 0, 1),
        MetricSpec("dot_gain_mm", "How much wider a mark burns than the laser spot", "mm", 0, 5),
        MetricSpec("burn_coverage", "Share of the area that burned", "", 0, 1),
        MetricSpec("material", "Library material the piece was burned on", choices=lambda: materials().keys()),
        MetricSpec("machine", "Library machine that burned it", choices=lambda: machines().keys()),
        MetricSpec("burn_result", "Whether the burn came out too light, right or too dark", choices=_burn_results),
        # How did it burn? (a photo of a finished piece against its simulated burn)
        MetricSpec("mark_gain_mm", "How much wider marks burned than the artwork assumed", "mm", -1, 1),
        MetricSpec("tone_error_shadows", "Shadows: photographed minus simulated lightness", "ΔL*", -100, 100),
        MetricSpec("tone_error_midtones", "Mid-tones: photographed minus simulated lightness", "ΔL*", -100, 100),
        MetricSpec("tone_error_highlights", "Highlights: photographed minus simulated lightness", "ΔL*", -100, 100),
        MetricSpec("contrast_achieved", "Lightness range burned, as a share of the simulated one", "", 0, 10),
        MetricSpec("sharpness", "Edge detail burned, as a share of the simulated", "", 0, 10),
        MetricSpec("registration_rms_px", "How closely the photo aligned to the artwork", "px", 0, 10000),
    )
}


class MetricRefused(ValueError):
    """A measurement that will not be kept; `message` says why, plainly."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def metric_check(key: str, value: object) -> tuple[float | None, str]:
    """(number, label) to store for `value` under `key`, or MetricRefused. Exactly one of the two is set."""
    spec = METRICS.get(key)
    if spec is None:
        raise MetricRefused("unknown_key", f"{key!r} is not on the list of measurements that can be kept.")
    if isinstance(value, bytes | bytearray | memoryview):
        raise MetricRefused(
            "pixels_refused", f"{key} must be one number or short label; file or picture data is never kept."
        )
    if isinstance(value, dict | list | tuple | set | frozenset) or (
        not isinstance(value, str | numbers.Number) and hasattr(value, "__len__")
    ):
        raise MetricRefused(
            "not_scalar", f"{key} must be one number or short label, not a collection of values (array, list, dict)."
        )
    if spec.is_label:
        if not isinstance(value, str):
            raise MetricRefused("not_a_label", f"{key} is a label (one of: {', '.join(spec.choices())}).")
        if len(value) > LABEL_MAX_CHARS:
            raise MetricRefused(
                "too_long", f"{key} labels are at most {LABEL_MAX_CHARS} characters; longer text is never kept."
            )
        allowed = tuple(spec.choices())
        if value not in allowed:
            raise MetricRefused("not_in_list", f"{value!r} is not one of the {key} labels: {', '.join(allowed)}.")
        return None, value
    # A number: bool is an int to Python but not a measurement; numpy scalars count as numbers, 0-d arrays do not.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise MetricRefused("not_a_number", f"{key} must be a number, not {type(value).__name__}.")
    number = float(value)
    if not math.isfinite(number):
        raise MetricRefused("not_finite", f"{key} must be a finite number, not {number}.")
    if (spec.minimum is not None and number < spec.minimum) or (spec.maximum is not None and number > spec.maximum):
        unit = f" {spec.unit}" if spec.unit else ""
        raise MetricRefused(
            "out_of_range", f"{key} must be between {spec.minimum:g} and {spec.maximum:g}{unit}, not {number:g}."
        )
    return number, ""


def metric_record(*, owner, key: str, value: object, source_asset: Asset | None = None) -> DerivedMetric:
    """Keeps one measurement under the owner's active derived_only consent, or raises MetricRefused.

    Callers measure a photo inside its job and call this for each number; without consent (the default) the
    refusal is expected and means: keep nothing beyond the raw file, which goes on its own schedule."""
    number, label = metric_check(key, value)
    if source_asset is not None:
        if source_asset.owner_id != owner.pk:
            raise MetricRefused("not_found", "The photo this measurement comes from is not among this account's.")
        if source_asset.kind in JEWELLERY_KINDS:
            raise MetricRefused("jewellery_refused", "Measurements are never kept from jewellery-studio pictures.")
    with transaction.atomic():
        consent_lock(owner)
        owner.refresh_from_db(fields=["restricted", "closed_at", "is_active"])
        if owner.restricted or owner.closed_at is not None or not owner.is_active:
            raise MetricRefused("restricted", "This account has stopped new processing, so no measurement is kept.")
        consent = consent_active(user=owner, scope=ConsentScope.DERIVED_ONLY)
        if consent is None:
            raise MetricRefused(
                "no_consent", "Measurements are kept only with permission to keep measurements, which is not given."
            )
        now = timezone.now()
        return DerivedMetric.objects.create(
            owner=owner,
            key=key,
            number=number,
            label=label,
            consent=consent,
            source_asset_id=source_asset.pk if source_asset is not None else None,
            created_at=now,
            expires_at=now + timedelta(days=settings.RETENTION_DERIVED_METRIC_DAYS),
        )


def metrics_usable(*, key: str | None = None) -> QuerySet[DerivedMetric]:
    """The measurements learning may read now: unexpired, of accounts consenting at this moment (E7, E10)."""
    rows = DerivedMetric.objects.filter(
        expires_at__gt=timezone.now(), owner__in=users_consenting(ConsentScope.DERIVED_ONLY).values("pk")
    )
    return rows.filter(key=key) if key is not None else rows


def metric_list(*, owner) -> QuerySet[DerivedMetric]:
    """The account's own kept measurements, newest first."""
    return DerivedMetric.objects.filter(owner=owner).order_by("-created_at", "-id")
