"""Gallery writes: publishing a finished version (E14), unpublishing it, reports, and moderation. Every moderator
action is audited (core.audit); publishing and unpublishing are also the item's gallery_publish consent events."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from intaglio.accounts.emails import send_account_email
from intaglio.accounts.roles import Role, role_held
from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.services import UploadRefused, asset_delete_blobs, storage_room_check
from intaglio.assets.storage import blob_open, blob_write
from intaglio.core.audit import audit_record
from intaglio.core.errors import Refused
from intaglio.engrave.models import ArtworkVersion
from intaglio.engrave.selectors import version_files
from intaglio.gallery.models import (
    GalleryImage,
    GalleryItem,
    ImageRole,
    ModerationAction,
    ModerationDecision,
    ModerationState,
    Report,
    ReportReason,
    ReportState,
)
from intaglio.gallery.selectors import version_burn_photos
from intaglio.imaging import IngestError, ingest_image
from intaglio.imaging.artwork import get_machine, get_material
from intaglio.privacy.consent import consent_grant, consent_withdraw
from intaglio.privacy.models import ConsentScope

TITLE_MAX = 80
STORY_MAX = 1000
NOTE_MAX = 500
PHOTOS_MAX = 4
# Settings a visitor's studio may start from. Left out: the owner's machine profile id and the calibration
# measured on the owner's own card (a visitor's own calibration is matched in their studio instead).
RECIPE_KEYS = (
    "material", "machine", "machine_spec", "width_mm", "height_mm", "fit", "mode", "line_interval_mm", "adjustments",
    "serpentine", "threshold", "cell_mm", "lpi", "angle_deg", "spacing_mm", "line_width_mm", "detail", "seed",
    "use_calibration", "laser",
)  # fmt: skip


class GalleryRefused(Refused):
    statuses = {
        "not_found": 404, "not_ready": 409, "already_published": 409, "already_reported": 409,
        "quota_exceeded": 403,
    }  # fmt: skip


@dataclass(frozen=True)
class PhotoUpload:
    name: str
    data: bytes


def recipe_from_settings(settings: dict) -> dict:
    """The shareable part of a version's settings; a machine of the owner's own keeps its numbers, not its name."""
    recipe = {key: settings[key] for key in RECIPE_KEYS if key in settings}
    if isinstance(recipe.get("machine_spec"), dict):
        recipe["machine_spec"] = {**recipe["machine_spec"], "label": "Machine from the gallery"}
    recipe["calibrated"] = bool(settings.get("calibration"))
    return recipe


def recipe_machine_kind(recipe: dict) -> str:
    if isinstance(recipe.get("machine_spec"), dict):
        return str(recipe["machine_spec"].get("kind", ""))
    return get_machine(recipe.get("machine") or "diode-10w").kind


def _clean_text(value: str, *, limit: int, field: str, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise GalleryRefused("invalid_" + field, f"Give it a {field}.")
    if len(value) > limit or any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise GalleryRefused("invalid_" + field, f"The {field} is at most {limit} characters of plain text.")
    return value


def _store_copy(
    item: GalleryItem, *, role: str, position: int, clean, written: list[str]
) -> GalleryImage:  # fmt: skip
    """Stores a picture already re-encoded from its pixels (no EXIF, XMP, ICC profile or text) as a new asset."""
    extension = clean.format.replace("jpeg", "jpg")
    asset = Asset(
        owner=item.owner, kind=AssetKind.GALLERY_IMAGE, role=role, mime=clean.mime, sha256=clean.sha256,
        bytes=len(clean.data), width=clean.width, height=clean.height, download_name=f"gallery-{role}.{extension}",
        retention_class=RetentionClass.ACCOUNT_CONTENT, published_at=item.published_at,
    )  # fmt: skip
    blob_write(asset.storage_key, clean.data)
    written.append(asset.storage_key)
    asset.save()
    return GalleryImage.objects.create(item=item, role=role, position=position, asset=asset)


def _read(asset) -> bytes:
    with blob_open(asset.storage_key) as handle:
        return handle.read()


def _copies_make(
    item: GalleryItem, pictures: list[tuple[dict, bytes]], *, written: list[str], check_room: bool = True
) -> None:
    """Cleans every picture, checks the owner's storage room for all of them at once (publishing; a restore brings
    back what fitted before), then stores the copies. `pictures` are (origin, bytes), origin as in
    GalleryItem.origins. Call inside a transaction."""
    try:
        cleaned = [(origin, ingest_image(data)) for origin, data in pictures]
    except IngestError as refused:
        raise GalleryRefused("invalid_photo", f"A photo could not be used: {refused}") from None
    try:
        if check_room:
            storage_room_check(
                owner=item.owner, needed=sum(len(clean.data) for _, clean in cleaned), what="publishing these pictures"
            )
    except UploadRefused as refused:
        raise GalleryRefused(refused.code, refused.message) from None
    for origin, clean in cleaned:
        _store_copy(item, role=origin["role"], position=origin["position"], clean=clean, written=written)


def gallery_publish(
    *, owner, version: ArtworkVersion, title: str, story: str = "", photos: list[PhotoUpload] = (),
    report_photo_ids: list[int] = (), include_source: bool = False,
) -> GalleryItem:  # fmt: skip
    """Publishes a finished version: its artwork and simulated burn, the photos of the real burn (uploaded here, or
    chosen among the photos of the version's *How did it burn?* reports by asset id), and the source photo only when
    `include_source`. Refused when the copies do not fit the owner's storage. Records the artwork's
    gallery_publish consent (E14)."""
    if version.artwork.owner_id != owner.pk:
        raise GalleryRefused("not_found", "No such version among yours.")
    title = _clean_text(title, limit=TITLE_MAX, field="title", required=True)
    story = _clean_text(story, limit=STORY_MAX, field="story", required=False)
    chosen_ids = {int(pk) for pk in report_photo_ids}
    reported = [photo for photo in version_burn_photos(version=version) if photo.pk in chosen_ids]
    if len(reported) != len(chosen_ids):
        raise GalleryRefused("not_found", "No such photo among this version's burn reports.")
    if len(photos) + len(reported) > PHOTOS_MAX:
        raise GalleryRefused("too_many_photos", f"Add at most {PHOTOS_MAX} photos of the burn.")
    files = version_files(version)
    if "png" not in files or "burn-preview" not in files:
        raise GalleryRefused("not_ready", "Only a finished version can be published: its files are not ready.")
    if GalleryItem.objects.filter(version=version).exists():
        raise GalleryRefused("already_published", "This version is already in the gallery.")
    recipe = recipe_from_settings(version.settings)
    originals: list[tuple[str, Asset | None, bytes]] = [
        (ImageRole.ARTWORK, files["png"], b""), (ImageRole.BURN_PREVIEW, files["burn-preview"], b""),
    ]  # fmt: skip
    originals += [(ImageRole.PHOTO, photo, b"") for photo in reported]
    originals += [(ImageRole.PHOTO, None, photo.data) for photo in photos]
    source = version.artwork.source
    if include_source and source is not None and source.kind == AssetKind.SOURCE_PHOTO:
        originals.append((ImageRole.SOURCE, source, b""))
    pictures = [
        ({"role": role, "position": position, "asset_id": original.pk if original else None},
         _read(original) if original else data)
        for position, (role, original, data) in enumerate(originals)
    ]  # fmt: skip
    written: list[str] = []
    try:
        with transaction.atomic():
            item = GalleryItem.objects.create(
                owner=owner, version=version, artwork_asset=files["png"], title=title, story=story, recipe=recipe,
                material=recipe["material"], machine_kind=recipe_machine_kind(recipe),
                origins=[origin for origin, _ in pictures],
            )  # fmt: skip
            _copies_make(item, pictures, written=written)
            consent_grant(user=owner, scope=ConsentScope.GALLERY_PUBLISH, source="gallery", asset=files["png"])
    except BaseException:
        asset_delete_blobs(written)
        raise
    return item


def gallery_unpublish(*, item: GalleryItem, actor, source: str = "gallery") -> None:
    """Takes the item out at once by withdrawing the artwork's gallery_publish consent, as the privacy page does:
    either way the item, its copies and their blobs go (item_taken_down), so its page and pictures answer 404 from
    this moment."""
    if item.owner_id != actor.pk:
        raise GalleryRefused("not_found", "No such item among yours.")
    with transaction.atomic():
        consent_withdraw(user=actor, scope=ConsentScope.GALLERY_PUBLISH, source=source, asset=item.artwork_asset)
        item_taken_down(asset=item.artwork_asset)  # also when the consent was already withdrawn


def item_taken_down(*, asset, **_signal_kwargs) -> int:
    """The artwork `asset` was unpublished (privacy.consent.item_unpublished, inside its transaction): its gallery
    item goes with every copy; the blobs are deleted once the transaction commits (gallery.apps)."""
    deleted = 0
    for item in GalleryItem.objects.filter(artwork_asset_id=asset.pk):
        item.delete()
        deleted += 1
    return deleted


def report_file(*, item: GalleryItem, reporter, reason: str, details: str = "") -> Report:
    if reason not in ReportReason.values:
        raise GalleryRefused("invalid_reason", "Choose a reason.")
    details = _clean_text(details, limit=NOTE_MAX, field="details", required=False)
    if item.owner_id == reporter.pk:
        raise GalleryRefused("own_item", "This item is yours: unpublish it instead.")
    if Report.objects.filter(item=item, reporter=reporter, state=ReportState.OPEN).exists():
        raise GalleryRefused("already_reported", "You already reported this item; a moderator will look at it.")
    report = Report.objects.create(item=item, reporter=reporter, reason=reason, details=details)
    audit_record(
        action="gallery.reported", actor=reporter, target_type="gallery_item", target_id=item.pk,
        subject_user_id=item.owner_id, detail={"reason": reason, "report_id": report.pk},
    )  # fmt: skip
    return report


def moderation_decide(*, item: GalleryItem, moderator, action: str, note: str) -> ModerationDecision:
    """Hide, restore or dismiss, with a note the owner reads. Open reports are closed with the outcome; the
    decision is audited with the moderator, never with the note's text."""
    if not role_held(moderator, Role.MODERATOR):
        raise GalleryRefused("not_found", "No such item.")
    if action not in ModerationAction.values:
        raise GalleryRefused("invalid_action", "Choose hide, restore or dismiss.")
    note = _clean_text(note, limit=NOTE_MAX, field="note", required=True)
    now = timezone.now()
    with transaction.atomic():
        item = GalleryItem.objects.select_for_update().get(pk=item.pk)
        open_reports = item.reports.filter(state=ReportState.OPEN)
        if action == ModerationAction.HIDE:
            item.moderation = ModerationState.HIDDEN
            closed = open_reports.update(state=ReportState.HIDDEN, resolved_at=now)
        elif action == ModerationAction.RESTORE:
            item.moderation = ModerationState.VISIBLE
            closed = open_reports.update(state=ReportState.DISMISSED, resolved_at=now)
        else:
            closed = open_reports.update(state=ReportState.DISMISSED, resolved_at=now)
        item.save(update_fields=["moderation"])
        if action == ModerationAction.HIDE:
            _copies_remove_remakeable(item)
        elif action == ModerationAction.RESTORE:
            _copies_remake(item)
        decision = ModerationDecision.objects.create(item=item, moderator=moderator, action=action, note=note)
        audit_record(
            action=f"gallery.moderation.{action}", actor=moderator, actor_role=Role.MODERATOR,
            target_type="gallery_item", target_id=item.pk, subject_user_id=item.owner_id,
            detail={"decision_id": decision.pk, "reports_closed": closed},
        )  # fmt: skip
        transaction.on_commit(lambda: decision_email(decision=decision))
    return decision


def _copies_remove_remakeable(item: GalleryItem) -> None:
    """A hide deletes every copy whose original the owner still keeps (artwork, simulated burn, burn-report photos,
    source photo): nothing public stays stored for a hidden item, and a restore makes them again from the originals.
    A photo uploaded only for the gallery has no other copy: it stays, behind the per-request visibility check
    (owner and moderators only), so a restore does not lose it."""
    if not item.origins:
        return  # published before origins were kept: its copies could not be made again, so they stay
    kept = {origin["position"] for origin in item.origins if origin.get("asset_id") is None}
    for image in item.images.exclude(position__in=kept):
        image.delete()  # and its copy and blob (gallery.apps)


def _copies_remake(item: GalleryItem) -> None:
    """A restore makes again the copies a hide removed, from the originals the owner still has; an original deleted
    meanwhile is simply left out."""
    present = set(item.images.values_list("position", flat=True))
    wanted = [origin for origin in item.origins if origin.get("asset_id") and origin["position"] not in present]
    originals = Asset.objects.in_bulk([origin["asset_id"] for origin in wanted])
    pictures = [(origin, _read(originals[origin["asset_id"]])) for origin in wanted if origin["asset_id"] in originals]
    written: list[str] = []
    try:
        _copies_make(item, pictures, written=written, check_room=False)
    except BaseException:
        asset_delete_blobs(written)
        raise


def decision_email(*, decision: ModerationDecision) -> None:
    """Tells the owner the outcome by e-mail, with the moderator's note and never the moderator's identity."""
    owner = decision.item.owner
    if not owner.is_active or owner.closed_at is not None:
        return
    send_account_email(
        to=owner.email, template="gallery_decision",
        context={
            "title": decision.item.title, "outcome": ModerationAction(decision.action).label, "note": decision.note,
            "action": decision.action, "mine_url": settings.BASE_URL + reverse("gallery-mine"),
        },
    )  # fmt: skip


def decisions_mark_seen(*, owner) -> int:
    return ModerationDecision.objects.filter(item__owner=owner, seen_at__isnull=True).update(seen_at=timezone.now())


def material_label(name: str) -> str:
    try:
        return get_material(name).label
    except (KeyError, ValueError):
        return name


def recipe_settings(item: GalleryItem) -> dict:
    """The item's recipe as studio settings for a visitor's own photo (their own calibration is matched there)."""
    return {key: value for key, value in item.recipe.items() if key in RECIPE_KEYS}


def recipe_public(recipe: dict) -> dict:
    """The recipe as the public API gives it: the settings a visitor starts from, with the power, speed and passes
    the version was made with (None for a version made before versions stored them: the material's suggestion)."""
    spec = recipe.get("machine_spec") if isinstance(recipe.get("machine_spec"), dict) else None
    laser = recipe.get("laser") if isinstance(recipe.get("laser"), dict) else {}
    return {
        "material": recipe.get("material", ""),
        "machine": None if spec else (recipe.get("machine") or None),
        "machine_kind": recipe_machine_kind(recipe),
        "mode": recipe.get("mode") or None,
        "line_interval_mm": recipe.get("line_interval_mm"),
        "width_mm": recipe.get("width_mm"),
        "power_pct": laser.get("power_pct"),
        "speed_mm_min": laser.get("speed_mm_min"),
        "passes": laser.get("passes"),
        "calibrated": bool(recipe.get("calibrated")),
    }
