"""Gallery reads. The public sees an item only while it is published and visible: its row exists, a moderator has
not hidden it, and its artwork's gallery_publish consent stands (unpublished from the privacy page counts too)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from intaglio.accounts.roles import Role, role_held
from intaglio.assets.models import Asset
from intaglio.gallery.models import GalleryImage, GalleryItem, ModerationDecision, ModerationState, ReportState


def gallery_public() -> QuerySet[GalleryItem]:
    return GalleryItem.objects.filter(
        moderation=ModerationState.VISIBLE, artwork_asset__published_at__isnull=False
    ).prefetch_related("images")


def gallery_list(*, material: str = "", machine_kind: str = "") -> QuerySet[GalleryItem]:
    items = gallery_public()
    if material:
        items = items.filter(material=material)
    if machine_kind:
        items = items.filter(machine_kind=machine_kind)
    return items


def gallery_facets() -> dict[str, list[str]]:
    """The materials and machine kinds the public items use, for the list's filters."""
    rows = gallery_public().values_list("material", "machine_kind").distinct()
    return {
        "materials": sorted({material for material, _ in rows}),
        "machine_kinds": sorted({kind for _, kind in rows}),
    }


def gallery_item_for(*, public_id: str, viewer) -> GalleryItem | None:
    """The item as `viewer` may see it: public while visible; its owner and moderators also see it hidden."""
    item = GalleryItem.objects.filter(public_id=public_id).select_related("artwork_asset").first()
    if item is None or item.artwork_asset.published_at is None:
        return None
    if item.moderation == ModerationState.VISIBLE:
        return item
    if getattr(viewer, "pk", None) == item.owner_id or role_held(viewer, Role.MODERATOR):
        return item
    return None


def gallery_image_for(*, item_public_id: str, image_public_id: str, viewer) -> GalleryImage | None:
    item = gallery_item_for(public_id=item_public_id, viewer=viewer)
    if item is None:
        return None
    return item.images.filter(public_id=image_public_id).first()


def gallery_owned(*, owner) -> QuerySet[GalleryItem]:
    return GalleryItem.objects.filter(owner=owner).prefetch_related("images", "decisions")


def gallery_owned_get(*, owner, public_id: str) -> GalleryItem | None:
    return GalleryItem.objects.filter(owner=owner, public_id=public_id).first()


def decisions_unseen(*, owner) -> QuerySet[ModerationDecision]:
    return ModerationDecision.objects.filter(item__owner=owner, seen_at__isnull=True).select_related("item")


def moderation_queue() -> QuerySet[GalleryItem]:
    """Items with open reports, most reported first; then hidden items, which a moderator may restore."""
    open_reports = Count("reports", filter=Q(reports__state=ReportState.OPEN))
    return (
        GalleryItem.objects.annotate(open_reports=open_reports)
        .filter(Q(open_reports__gt=0) | Q(moderation=ModerationState.HIDDEN))
        .prefetch_related("images", "reports")
        .order_by("-open_reports", "published_at")
    )


def moderation_item(*, public_id: str) -> GalleryItem | None:
    return GalleryItem.objects.filter(public_id=public_id).prefetch_related("images", "reports", "decisions").first()


def version_burn_photos(*, version) -> list[Asset]:
    """The photos on the version's *How did it burn?* reports (feedback's BurnReport.photo, read through the
    relation so the gallery needs no import of its sibling), oldest first: what the owner may publish as burns."""
    return list(
        Asset.objects.filter(owner_id=version.artwork.owner_id, burn_reports__version=version)
        .distinct()
        .order_by("created_at", "pk")
    )
