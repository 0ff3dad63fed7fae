"""What the gallery pages show: cards for the list, the item with its recipe, the moderators' rows. No owner data
beyond what the owner wrote for the item: never an e-mail, a name or an account id."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from intaglio.accounts.roles import Role, role_held
from intaglio.gallery.models import GalleryImage, GalleryItem, ImageRole, ReportReason, ReportState
from intaglio.gallery.services import material_label
from intaglio.imaging.artwork import machines
from intaglio.web.engrave.presenters import KIND_LABELS, mode_label


@dataclass(frozen=True)
class Picture:
    url: str
    role: str
    label: str
    width: int
    height: int


@dataclass(frozen=True)
class Card:
    item: GalleryItem
    url: str
    cover: Picture | None
    material: str
    machine_kind: str
    hidden: bool


@dataclass(frozen=True)
class ItemDetail:
    item: GalleryItem
    pictures: list[Picture]
    recipe: list[tuple[str, str]]
    material: str
    machine_kind: str
    is_owner: bool
    hidden: bool
    can_report: bool


@dataclass
class QueueRow:
    item: GalleryItem
    cover: Picture | None
    reasons: list[tuple[str, int]] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    open_reports: int = 0
    hidden: bool = False


def picture(image: GalleryImage) -> Picture:
    return Picture(
        url=reverse("gallery-picture", args=[image.item.public_id, image.public_id]),
        role=image.role,
        label=ImageRole(image.role).label,
        width=image.asset.width or 0,
        height=image.asset.height or 0,
    )


def _pictures(item: GalleryItem) -> list[Picture]:
    return [picture(image) for image in item.images.select_related("asset", "item")]


def _cover(item: GalleryItem) -> Picture | None:
    pictures = _pictures(item)
    # The real burn when there is one; the simulated burn otherwise.
    for role in (ImageRole.PHOTO, ImageRole.BURN_PREVIEW, ImageRole.ARTWORK):
        for shown in pictures:
            if shown.role == role:
                return shown
    return None


def item_card(item: GalleryItem, *, mine: bool = False) -> Card:
    return Card(
        item=item,
        url=reverse("gallery-item", args=[item.public_id]),
        cover=_cover(item),
        material=material_label(item.material),
        machine_kind=KIND_LABELS.get(item.machine_kind, item.machine_kind),
        hidden=item.moderation != "visible",
    )


def _number(value, unit: str) -> str:
    return f"{value:g} {unit}" if isinstance(value, int | float) else "Material default"


def laser_summary(laser, *, power: str) -> str:
    """The power, speed and passes the version was burned with (stored with it); the library's suggestion only for
    a version made before versions stored them."""
    if not isinstance(laser, dict) or not isinstance(laser.get("power_pct"), int | float):
        return f"The library's suggestion for this material ({power})"
    passes = laser.get("passes") or 1
    speed = laser.get("speed_mm_min")
    parts = [f"{laser['power_pct']:g} % power"]
    if isinstance(speed, int | float):
        parts.append(f"{speed:g} mm/min")
    parts.append(f"{passes} pass" if passes == 1 else f"{passes} passes")
    return " · ".join(parts)


def recipe_rows(recipe: dict) -> list[tuple[str, str]]:
    spec = recipe.get("machine_spec") if isinstance(recipe.get("machine_spec"), dict) else None
    if spec:
        machine = f"{KIND_LABELS.get(spec.get('kind'), spec.get('kind'))} · {spec.get('power_w', 0):g} W (own machine)"
        power = f"{spec.get('power_w', 0):g} W laser, {spec.get('max_feed_mm_min', 0):g} mm/min top speed"
    else:
        library = machines().get(recipe.get("machine") or "")
        machine = library.label if library else "Library default"
        power = f"{library.power_w:g} W laser" if library else "Library default"
    width = recipe.get("width_mm")
    return [
        ("Material", material_label(recipe.get("material", ""))),
        ("Machine", machine),
        ("Power, speed, passes", laser_summary(recipe.get("laser"), power=power)),
        ("Mode", mode_label(recipe.get("mode", "floyd-steinberg"))),
        ("Line interval", _number(recipe.get("line_interval_mm"), "mm")),
        ("Size", _number(width, "mm wide")),
        ("Calibration", "Burned with a calibrated test card" if recipe.get("calibrated") else "Not calibrated"),
    ]


def item_detail(item: GalleryItem, *, viewer) -> ItemDetail:
    is_owner = getattr(viewer, "pk", None) == item.owner_id
    return ItemDetail(
        item=item,
        pictures=_pictures(item),
        recipe=recipe_rows(item.recipe),
        material=material_label(item.material),
        machine_kind=KIND_LABELS.get(item.machine_kind, item.machine_kind),
        is_owner=is_owner,
        hidden=item.moderation != "visible",
        can_report=not is_owner and not role_held(viewer, Role.MODERATOR),
    )


def queue_row(item: GalleryItem) -> QueueRow:
    row = QueueRow(item=item, cover=_cover(item), hidden=item.moderation != "visible")
    counts: dict[str, int] = {}
    for report in item.reports.all():
        if report.state == ReportState.OPEN:
            counts[report.reason] = counts.get(report.reason, 0) + 1
            if report.details:
                row.details.append(report.details)
    row.reasons = [(ReportReason(reason).label, count) for reason, count in sorted(counts.items())]
    row.open_reports = sum(counts.values())
    return row


def facet_options(facets: dict[str, list[str]], *, material: str, kind: str) -> dict:
    return {
        "materials": [(name, material_label(name)) for name in facets["materials"]],
        "kinds": [(name, KIND_LABELS.get(name, name)) for name in facets["machine_kinds"]],
    }
