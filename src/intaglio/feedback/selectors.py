"""Feedback reads: a maker's burn reports, and the shared guidance pooled from consenting makers' calibrations.

Shared guidance reads calibrations only of accounts whose `engraved_learning` consent is in force when it is read
(E10): nothing is cached or copied, so a withdrawal takes an account's contribution out of the very next read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db.models import QuerySet

from intaglio.engrave.models import CalibrationProfile
from intaglio.feedback.models import BurnReport
from intaglio.privacy.consent import users_consenting
from intaglio.privacy.models import ConsentScope

# Guidance is shown only once this many different accounts contributed, so it never describes one maker's burns.
GUIDANCE_MIN_ACCOUNTS = 5
# Marked area at which pooled tone is compared.
_AREAS = tuple(round(a, 3) for a in np.linspace(0.05, 1.0, 20))


def burn_reports(*, owner) -> QuerySet[BurnReport]:
    return BurnReport.objects.filter(owner=owner).select_related("photo", "job", "version__artwork")


def burn_report_get(*, owner, report_id: int) -> BurnReport | None:
    return burn_reports(owner=owner).filter(pk=report_id).first()


def version_burn_reports(*, owner, version_ids) -> dict[int, list[BurnReport]]:
    """The owner's reports on these versions, newest first, by version id."""
    by_version: dict[int, list[BurnReport]] = defaultdict(list)
    for report in burn_reports(owner=owner).filter(version_id__in=list(version_ids)):
        by_version[report.version_id].append(report)
    return by_version


@dataclass(frozen=True)
class SharedGuidance:
    """What makers measured for one material × machine kind × mode: the median over accounts, one vote each."""

    material: str
    machine_kind: str
    mode: str
    accounts: int
    mark_diameter_mm: float
    tone: tuple[tuple[float, float], ...]  # (marked area, effective coverage), medians
    power_pct: float | None
    speed_mm_min: float | None


def _account_values(profiles: list[CalibrationProfile]) -> dict:
    """One account's vote: the mean of its profiles for the setup."""
    tones = []
    for profile in profiles:
        pairs = sorted((float(a), float(e)) for a, e in profile.tone) or [(1.0, 1.0)]
        area, dark = zip(*([(0.0, 0.0)] + pairs), strict=True)
        tones.append(np.interp(_AREAS, area, np.maximum.accumulate(dark)))
    powers = [p.power_pct for p in profiles if p.power_pct]
    speeds = [p.speed_mm_min for p in profiles if p.speed_mm_min]
    return {
        "mark": float(np.mean([p.mark_diameter_mm for p in profiles])),
        "tone": np.mean(tones, axis=0),
        "power": float(np.mean(powers)) if powers else None,
        "speed": float(np.mean(speeds)) if speeds else None,
    }


def shared_guidance(*, material: str, machine_kind: str | None = None, mode: str | None = None) -> list[SharedGuidance]:
    """The guidance for `material` (optionally one machine kind and mode), from accounts consenting now (E10), for
    each setup at least GUIDANCE_MIN_ACCOUNTS accounts measured; profiles started from guidance are not votes."""
    rows = CalibrationProfile.objects.filter(
        material=material,
        source=CalibrationProfile.Source.CARD,
        owner__in=users_consenting(ConsentScope.ENGRAVED_LEARNING).values("pk"),
    )
    if machine_kind:
        rows = rows.filter(machine_kind=machine_kind)
    if mode:
        rows = rows.filter(mode=mode)
    setups: dict[tuple[str, str], dict[int, list[CalibrationProfile]]] = defaultdict(lambda: defaultdict(list))
    for profile in rows:
        setups[(profile.machine_kind, profile.mode)][profile.owner_id].append(profile)
    guidance = []
    for (kind, setup_mode), by_account in sorted(setups.items()):
        if len(by_account) < GUIDANCE_MIN_ACCOUNTS:
            continue
        votes = [_account_values(profiles) for profiles in by_account.values()]
        powers = [v["power"] for v in votes if v["power"] is not None]
        speeds = [v["speed"] for v in votes if v["speed"] is not None]
        tone = np.median([v["tone"] for v in votes], axis=0)
        guidance.append(
            SharedGuidance(
                material=material,
                machine_kind=kind,
                mode=setup_mode,
                accounts=len(by_account),
                mark_diameter_mm=round(float(np.median([v["mark"] for v in votes])), 4),
                tone=tuple((a, round(float(e), 4)) for a, e in zip(_AREAS, tone, strict=True)),
                power_pct=round(float(np.median(powers)), 1) if powers else None,
                speed_mm_min=round(float(np.median(speeds))) if speeds else None,
            )
        )
    return guidance


def artwork_burn_reports(*, owner, artwork_id: int) -> QuerySet[BurnReport]:
    """The owner's reports on every version of one of their artworks, newest first."""
    return burn_reports(owner=owner).filter(version__artwork_id=artwork_id).prefetch_related("job__outputs")
