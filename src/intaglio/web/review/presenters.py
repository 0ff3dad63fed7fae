"""What the reviewer's pages show: the file's kind, when it was taken, the settings it was burned with and the
verdicts. Never the owner's e-mail or name: a reviewer judges the work, not the person."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from intaglio.assets.models import Asset, AssetKind
from intaglio.imaging.artwork import get_machine, get_material
from intaglio.review.models import Verdict
from intaglio.review.selectors import curation_allowed, photo_settings, verdicts_of
from intaglio.web.engrave.presenters import mode_label

# Numbers a test card's settings carry (an artwork version's come from its machine and calibration instead).
MACHINE_NUMBERS = (("power_pct", "Power", " %"), ("speed_mm_min", "Speed", " mm/min"), ("passes", "Passes", ""))


@dataclass(frozen=True)
class QueueRow:
    asset: Asset
    kind: str
    settings: list[tuple[str, str]]
    state: str
    tone: str
    url: str


@dataclass(frozen=True)
class ItemPage:
    row: QueueRow
    file_url: str
    verdicts: list[Verdict]
    can_curate: bool


def _label(getter, name) -> str:
    try:
        return getter(name).label
    except (KeyError, ValueError):
        return str(name)


def settings_rows(settings: dict) -> list[tuple[str, str]]:
    """The settings a photographed piece was burned with, as label and value, for the ones recorded."""
    rows = []
    if settings.get("material"):
        rows.append(("Material", _label(get_material, settings["material"])))
    spec = settings.get("machine_spec")
    if isinstance(spec, dict):
        rows.append(("Machine", str(spec.get("label") or spec.get("kind") or "Own machine")))
    elif settings.get("machine"):
        rows.append(("Machine", _label(get_machine, settings["machine"])))
    if settings.get("mode"):
        rows.append(("Mode", mode_label(settings["mode"])))
    if settings.get("line_interval_mm"):
        rows.append(("Line interval", f"{settings['line_interval_mm']} mm"))
    for key, label, unit in MACHINE_NUMBERS:
        if settings.get(key) not in (None, ""):
            rows.append((label, f"{settings[key]}{unit}"))
    rows.append(("Calibrated", "Yes" if settings.get("calibration") else "No"))
    return rows if len(rows) > 1 else []


def _state(asset: Asset, newest: Verdict | None) -> tuple[str, str]:
    if asset.curated:
        return "Curated", "busy"
    if newest is None:
        return "To review", "wait"
    return ("Valid", "ok") if newest.valid else ("Not valid", "bad")


def queue_row(asset: Asset) -> QueueRow:
    newest = Verdict.objects.filter(asset=asset).first()
    state, tone = _state(asset, newest)
    return QueueRow(
        asset=asset,
        kind=AssetKind(asset.kind).label if asset.kind in AssetKind.values else asset.kind,
        settings=settings_rows(photo_settings(asset)),
        state=state,
        tone=tone,
        url=reverse("review-item", args=[asset.pk]),
    )


def item_page(asset: Asset) -> ItemPage:
    return ItemPage(
        row=queue_row(asset),
        file_url=reverse("review-file", args=[asset.pk]),
        verdicts=list(verdicts_of(asset)),
        can_curate=curation_allowed(asset),
    )
