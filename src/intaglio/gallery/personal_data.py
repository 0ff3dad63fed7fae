"""What the gallery holds about a person: the items they published (with the copies of their pictures), the
reports they filed and the moderation decisions on their items."""

from __future__ import annotations

from django.db import transaction

from intaglio.core.personal_data import Erasure, PersonalData, Section, Subject, iso, owned_rows, register
from intaglio.gallery.models import GalleryImage, GalleryItem, Report


def _items_section() -> Section:
    return Section(
        "gallery_items",
        "Your items in the community gallery",
        "account_content",
        "While you keep them published (E6); unpublishing deletes them and their pictures at once.",
        "To show the work you chose to share, with its recipe (E14).",
    )


def _reports_section() -> Section:
    return Section(
        "gallery_reports",
        "Gallery items you reported",
        "account_content",
        "Until you close your account or the item is unpublished.",
        "So a moderator can look at the item.",
    )


def _export(subject: Subject) -> list[dict]:
    if subject.user_id is None:
        return []
    rows = []
    for item in GalleryItem.objects.filter(owner_id=subject.user_id).prefetch_related("images", "decisions"):
        rows.append(
            {
                "id": item.pk,
                "public_id": item.public_id,
                "title": item.title,
                "story": item.story,
                "version_id": item.version_id,
                "recipe": item.recipe,
                "moderation": item.moderation,
                "published_at": iso(item.published_at),
                "pictures": [{"role": image.role, "file_id": image.asset_id} for image in item.images.all()],
                "decisions": [
                    {"action": d.action, "note": d.note, "at": iso(d.created_at)} for d in item.decisions.all()
                ],
            }
        )
    return rows


def _erase(erasure: Erasure) -> dict[str, int]:
    """The items and their copies (the copies' blobs go with them, gallery.apps); the files step exports the copies
    as the account's files."""
    with transaction.atomic():
        pictures = GalleryImage.objects.filter(item__owner=erasure.user).count()
        items = GalleryItem.objects.filter(owner=erasure.user).delete()[1].get("gallery.GalleryItem", 0)
    return {"gallery_items": items, "gallery_pictures": pictures}


def declare() -> None:
    register(
        # Before assets and engrave (erase_order 30 and later), whose rows the items point at.
        PersonalData(app="gallery", section=_items_section, position=108, export=_export, erase=_erase, erase_order=4),
        owned_rows(
            "gallery", _reports_section, 109, Report, ("id", "reason", "details", "state", "created_at"),
            owner="reporter", erased_as="gallery_reports", erase_order=4,
        ),
    )  # fmt: skip
