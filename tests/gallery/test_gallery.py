"""The community gallery (issue 19, parts 1 and 2), named after the privacy clauses they prove where one applies:
E14 (nothing is public unless the owner publishes it; no other owner data; no metadata) and E6 (published items are
kept while published, and gone at once when unpublished)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from intaglio.assets.models import Asset, AssetKind
from intaglio.assets.scan import storage_scan
from intaglio.assets.storage import blob_exists
from intaglio.core.models import AuditEvent
from intaglio.engrave.models import Artwork, CalibrationProfile
from intaglio.engrave.services import artwork_delete
from intaglio.gallery import services
from intaglio.gallery.models import GalleryImage, GalleryItem, ImageRole, ModerationState, Report, ReportState
from intaglio.gallery.services import GalleryRefused, PhotoUpload
from intaglio.privacy.consent import consent_withdraw
from intaglio.privacy.models import ConsentEvent
from intaglio.privacy.rights import account_close, account_content_delete, data_export
from tests.factories import PASSWORD, email_link, jpeg_bytes, make_user
from tests.gallery import SECRET_TEXT, SETTINGS, finished_version, jpeg_with_exif, make_moderator

pytestmark = pytest.mark.django_db


def publish(owner, **options) -> GalleryItem:
    version = finished_version(owner)
    return services.gallery_publish(owner=owner, version=version, title="Rex on slate", **options)


def page(item: GalleryItem) -> str:
    return reverse("gallery-item", args=[item.public_id])


def picture_urls(item: GalleryItem) -> list[str]:
    return [reverse("gallery-picture", args=[item.public_id, image.public_id]) for image in item.images.all()]


# ------------------------------------------------------------------------------------------------------------ E14


def test_E14_nothing_is_public_until_the_owner_publishes(user):
    version = finished_version(user)
    assert Client().get(reverse("gallery-list")).content.decode().count("gallery-card") == 0
    item = services.gallery_publish(owner=user, version=version, title="Rex on slate", story="Birthday present.")
    listing = Client().get(reverse("gallery-list")).content.decode()
    assert page(item) in listing and "Rex on slate" in listing
    shown = Client().get(page(item))
    assert shown.status_code == 200
    text = shown.content.decode()
    assert "Birthday present." in text and "Slate" in text and "Use this recipe" in text
    # The publication is the artwork's gallery_publish consent event, recorded from the gallery.
    event = ConsentEvent.objects.get(user=user, scope="gallery_publish")
    assert event.granted and event.asset_id == item.artwork_asset_id and event.source == "gallery"


def test_E14_only_the_owner_can_publish_a_version(user, other_user):
    version = finished_version(user)
    with pytest.raises(GalleryRefused) as refused:
        services.gallery_publish(owner=other_user, version=version, title="Mine now")
    assert refused.value.status == 404
    assert not GalleryItem.objects.exists()


def test_E14_the_pages_show_no_owner_data_and_no_source_photo_unless_chosen(user):
    item = publish(user)
    assert {image.role for image in item.images.all()} == {ImageRole.ARTWORK, ImageRole.BURN_PREVIEW}
    text = Client().get(page(item)).content.decode() + Client().get(reverse("gallery-list")).content.decode()
    assert user.email not in text and user.email.split("@")[0] not in text
    source = Artwork.objects.get(owner=user).source
    assert reverse("asset-download", args=[source.pk]) not in text
    chosen = publish(user, include_source=True)
    assert ImageRole.SOURCE in {image.role for image in chosen.images.all()}


def test_E14_published_pictures_carry_no_metadata(user):
    item = publish(user, photos=[PhotoUpload("burn.jpg", jpeg_with_exif())])
    urls = picture_urls(item)
    assert len(urls) == 3
    for url in urls:
        response = Client().get(url)
        assert response.status_code == 200
        data = b"".join(response.streaming_content)
        assert SECRET_TEXT.encode() not in data and b"Alice Example" not in data
        image = Image.open(io.BytesIO(data))
        assert not image.getexif() and "icc_profile" not in image.info and "exif" not in image.info
        assert not {key for key in image.info if key.lower() in ("comment", "xml:com.adobe.xmp", "text")}


def test_E14_the_recipe_leaves_out_the_owners_machine_and_calibration(user):
    settings = {
        "material": "slate", "width_mm": 60.0, "mode": "atkinson", "use_calibration": True,
        "machine_spec": {"label": "Alice's garage K40", "kind": "co2", "power_w": 40, "spot_mm": 0.1,
                         "line_interval_mm": 0.1, "max_feed_mm_min": 18000, "work_area_mm": [300, 200]},
        "calibration": {"profile": 99, "label": "Calibrated from your card", "mark_diameter_mm": 0.2,
                        "tone": [[0.5, 0.5], [1, 1]]},
    }  # fmt: skip
    version = finished_version(user, settings=settings)
    item = services.gallery_publish(owner=user, version=version, title="K40 slate")
    assert item.machine_kind == "co2" and item.recipe["calibrated"] is True
    stored = json.dumps(item.recipe)
    assert "garage" not in stored and "profile" not in stored and "mark_diameter_mm" not in stored
    assert "garage" not in Client().get(page(item)).content.decode()


def test_use_this_recipe_opens_the_studio_on_the_visitors_own_photo(user, other_user):
    item = publish(user)
    anonymous = Client().get(reverse("gallery-use", args=[item.public_id]))
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
    visitor = Client()
    visitor.force_login(other_user)
    mine = finished_version(other_user).artwork.source
    assert visitor.get(reverse("gallery-use", args=[item.public_id])).status_code == 200
    # Someone else's photo is not offered and not accepted.
    theirs = Artwork.objects.get(owner=user).source
    refused = visitor.post(reverse("gallery-use", args=[item.public_id]), {"photo": theirs.pk})
    assert refused.status_code == 404
    response = visitor.post(reverse("gallery-use", args=[item.public_id]), {"photo": mine.pk})
    artwork = Artwork.objects.filter(owner=other_user).order_by("-pk").first()
    assert response.status_code == 302 and response["Location"] == reverse("artwork-studio", args=[artwork.pk])
    assert artwork.source == mine and artwork.settings["material"] == "slate" and artwork.settings["mode"] == "atkinson"


# ------------------------------------------------------------------------------------------------------------- E6


def test_E6_unpublishing_takes_the_page_and_its_pictures_away_at_once(user, django_capture_on_commit_callbacks):
    item = publish(user, photos=[PhotoUpload("burn.jpg", jpeg_bytes(120, 90))])
    urls, keys = picture_urls(item), [image.asset.storage_key for image in item.images.all()]
    first = Client().get(urls[0])
    # Any cache must ask again before each use; a 304 is the answer only while the item is shown.
    assert first["Cache-Control"] == "no-cache" and first["ETag"]
    assert Client().get(urls[0], HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert Client().get(page(item))["Cache-Control"] == "no-cache"
    owner = Client()
    owner.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(reverse("gallery-unpublish", args=[item.public_id]))
    assert response.status_code == 302
    assert Client().get(page(item)).status_code == 404
    for url in urls:
        assert Client().get(url).status_code == 404
        assert Client().get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 404
    assert not any(blob_exists(key) for key in keys)
    assert not Asset.objects.filter(kind=AssetKind.GALLERY_IMAGE).exists()
    assert not ConsentEvent.objects.filter(user=user, scope="gallery_publish").first().granted
    assert page(item) not in Client().get(reverse("gallery-list")).content.decode()


def test_E6_unpublishing_from_the_privacy_page_hides_the_item_too(user):
    item = publish(user)
    consent_withdraw(user=user, scope="gallery_publish", source="privacy_page", asset=item.artwork_asset)
    assert Client().get(page(item)).status_code == 404
    assert all(Client().get(url).status_code == 404 for url in picture_urls(item))


def test_E6_a_published_item_is_kept_while_published_and_goes_with_its_version(
    user, django_capture_on_commit_callbacks
):
    item = publish(user)
    copies = list(Asset.objects.filter(kind=AssetKind.GALLERY_IMAGE).values_list("storage_key", flat=True))
    assert copies and all(blob_exists(key) for key in copies)
    assert not Asset.objects.filter(kind=AssetKind.GALLERY_IMAGE, expires_at__isnull=False).exists()
    with django_capture_on_commit_callbacks(execute=True):
        artwork_delete(artwork=item.version.artwork, actor=user)
    assert not GalleryItem.objects.exists() and not GalleryImage.objects.exists()
    assert not any(blob_exists(key) for key in copies)
    assert storage_scan().clean


def test_the_export_lists_published_items_and_their_pictures(user):
    item = publish(user, photos=[PhotoUpload("burn.jpg", jpeg_bytes(120, 90))])
    archive = zipfile.ZipFile(io.BytesIO(data_export(user=user)))
    manifest = json.loads(archive.read("manifest.json"))
    (row,) = manifest["sections"]["gallery_items"]["records"]
    assert row["public_id"] == item.public_id and row["title"] == "Rex on slate"
    copies = {image.asset_id for image in item.images.all()}
    assert {picture["file_id"] for picture in row["pictures"]} == copies
    exported = {entry["id"] for entry in manifest["sections"]["files"]["records"]}
    assert copies <= exported


def test_erasure_removes_published_items_reports_and_copies(user, other_user, django_capture_on_commit_callbacks):
    item = publish(user)
    theirs = publish(other_user)
    services.report_file(item=theirs, reporter=user, reason="offensive")
    keys = [image.asset.storage_key for image in item.images.all()]
    account_close(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        account_content_delete(user=user)
    assert not GalleryItem.objects.filter(owner=user).exists()
    assert not Report.objects.filter(reporter=user).exists()
    assert not any(blob_exists(key) for key in keys)
    assert Client().get(page(item)).status_code == 404
    assert GalleryItem.objects.filter(owner=other_user).exists()


# ----------------------------------------------------------------------------------------------- reports, moderation


def test_a_report_then_a_hide_reaches_the_owner_and_every_step_is_audited(user, other_user):
    item = publish(user)
    reporter = Client()
    reporter.force_login(other_user)
    assert Client().get(reverse("gallery-report", args=[item.public_id])).status_code == 302  # sign in first
    response = reporter.post(
        reverse("gallery-report", args=[item.public_id]), {"reason": "unsafe_settings", "details": "Too fast"}
    )
    assert response.status_code == 302
    again = reporter.post(reverse("gallery-report", args=[item.public_id]), {"reason": "offensive"})
    assert "already reported" in again.content.decode() and Report.objects.count() == 1

    moderator = make_moderator()
    desk = Client()
    desk.force_login(moderator)
    queue = desk.get(reverse("moderation-queue")).content.decode()
    assert "Unsafe laser settings" in queue and reverse("moderation-item", args=[item.public_id]) in queue
    decided = desk.post(
        reverse("moderation-item", args=[item.public_id]), {"action": "hide", "note": "Speed is unsafe for slate."}
    )
    assert decided.status_code == 302
    item.refresh_from_db()
    assert item.moderation == ModerationState.HIDDEN
    assert Report.objects.get().state == ReportState.HIDDEN
    assert Client().get(page(item)).status_code == 404
    assert all(Client().get(url).status_code == 404 for url in picture_urls(item))

    owner = Client()
    owner.force_login(user)
    mine = owner.get(reverse("gallery-mine")).content.decode()
    assert "Speed is unsafe for slate." in mine and "Hidden" in mine
    assert moderator.email not in mine
    assert owner.get(page(item)).status_code == 200  # the owner still sees it, marked hidden

    actions = list(AuditEvent.objects.filter(target_type="gallery_item").values_list("action", "actor_id"))
    assert ("gallery.reported", other_user.pk) in actions and ("gallery.moderation.hide", moderator.pk) in actions
    hide = AuditEvent.objects.get(action="gallery.moderation.hide")
    assert hide.actor_role == "moderator" and hide.subject_user_id == user.pk
    assert "unsafe" not in json.dumps(hide.detail)  # the note is content: not in the audit log

    desk.post(reverse("moderation-item", args=[item.public_id]), {"action": "restore", "note": "Fixed."})
    assert Client().get(page(item)).status_code == 200
    assert AuditEvent.objects.filter(action="gallery.moderation.restore", actor=moderator).exists()


def test_dismissing_closes_the_reports_and_keeps_the_item(user, other_user):
    item = publish(user)
    services.report_file(item=item, reporter=other_user, reason="not_theirs")
    services.moderation_decide(item=item, moderator=make_moderator(), action="dismiss", note="It is theirs.")
    assert Report.objects.get().state == ReportState.DISMISSED
    assert Client().get(page(item)).status_code == 200
    assert AuditEvent.objects.filter(action="gallery.moderation.dismiss").count() == 1


def test_a_staff_member_without_the_role_cannot_moderate(user, other_user):
    item = publish(user)
    staff = make_user(is_staff=True)
    with pytest.raises(GalleryRefused):
        services.moderation_decide(item=item, moderator=staff, action="hide", note="No.")
    client = Client()
    client.force_login(staff)
    assert (
        client.post(reverse("moderation-item", args=[item.public_id]), {"action": "hide", "note": "x"}).status_code
        == 404
    )
    item.refresh_from_db()
    assert item.moderation == ModerationState.VISIBLE
    assert not AuditEvent.objects.filter(action__startswith="gallery.moderation").exists()


def test_owners_cannot_report_their_own_item_and_a_reason_is_required(user, other_user):
    item = publish(user)
    with pytest.raises(GalleryRefused):
        services.report_file(item=item, reporter=user, reason="offensive")
    with pytest.raises(GalleryRefused):
        services.report_file(item=item, reporter=other_user, reason="boring")


def test_the_publish_page_publishes_a_version_with_photos(user):
    version = finished_version(user)
    client = Client()
    client.force_login(user)
    url = reverse("gallery-publish", args=[version.artwork_id, version.number])
    assert client.get(url).status_code == 200
    photo = SimpleUploadedFile("burn.jpg", jpeg_with_exif(), "image/jpeg")
    response = client.post(url, {"title": "Slate Rex", "story": "", "photos": [photo]})
    item = GalleryItem.objects.get()
    assert response.status_code == 302 and response["Location"] == page(item)
    assert [image.role for image in item.images.all()] == ["artwork", "burn_preview", "photo"]
    again = client.post(url, {"title": "Slate Rex"})
    assert "already in the gallery" in again.content.decode()


def test_the_list_filters_by_material_and_machine_kind(user):
    slate = publish(user)
    version = finished_version(user, settings={"material": "birch-plywood", "machine": "co2-60w", "width_mm": 60.0})
    birch = services.gallery_publish(owner=user, version=version, title="Birch")
    only = Client().get(reverse("gallery-list"), {"material": "birch-plywood"}).content.decode()
    assert page(birch) in only and page(slate) not in only
    co2 = Client().get(reverse("gallery-list"), {"machine": "co2"}).content.decode()
    assert page(birch) in co2 and page(slate) not in co2
    assert CalibrationProfile.objects.count() == 0  # the recipe names no calibration row
    assert PASSWORD  # the factory's password is what force_login bypasses


# --------------------------------------------------------------------------------------- the gaps of parts 1 and 2


def test_the_owner_is_emailed_the_outcome_without_the_moderators_identity(
    user, other_user, mailoutbox, django_capture_on_commit_callbacks
):
    item = publish(user)
    services.report_file(item=item, reporter=other_user, reason="unsafe_settings")
    moderator = make_moderator(email="mira.moderator@example.com")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.moderation_decide(item=item, moderator=moderator, action="hide", note="Too fast for slate: 3 passes.")
    (message,) = mailoutbox
    assert message.to == [user.email] and "Rex on slate" in message.subject and "hidden" in message.subject
    assert "Too fast for slate: 3 passes." in message.body and "/gallery/mine/" in message.body
    text = message.subject + message.body + str(message.from_email)
    assert "mira" not in text.lower() and moderator.email not in text
    with django_capture_on_commit_callbacks(execute=True):
        services.moderation_decide(item=item, moderator=moderator, action="restore", note="Settings fixed.")
    assert len(mailoutbox) == 2 and "restored" in mailoutbox[1].subject.lower()
    assert "shown in the gallery again" in mailoutbox[1].body


def test_E6_unpublishing_from_the_privacy_page_removes_the_item_and_its_copies_at_once(
    user, django_capture_on_commit_callbacks
):
    item = publish(user, photos=[PhotoUpload("burn.jpg", jpeg_bytes(120, 90))])
    keys = [image.asset.storage_key for image in item.images.all()]
    assert keys and all(blob_exists(key) for key in keys)
    client = Client()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("privacy-gallery-set", args=[item.artwork_asset_id]), {"granted": "0"})
    assert response.status_code in (200, 302), response.status_code
    assert not GalleryItem.objects.exists() and not GalleryImage.objects.exists()
    assert not Asset.objects.filter(kind=AssetKind.GALLERY_IMAGE).exists()
    assert not any(blob_exists(key) for key in keys)
    assert storage_scan().clean
    event = ConsentEvent.objects.filter(user=user, scope="gallery_publish").order_by("-created_at", "-id").first()
    assert not event.granted and event.source == "privacy_page"


def test_a_hide_removes_the_copies_a_restore_can_make_again_and_keeps_uploaded_photos(
    user, django_capture_on_commit_callbacks
):
    item = publish(user, photos=[PhotoUpload("burn.jpg", jpeg_bytes(120, 90))], include_source=True)
    before = {image.role: image.asset.storage_key for image in item.images.all()}
    assert set(before) == {"artwork", "burn_preview", "photo", "source"}
    moderator = make_moderator()
    with django_capture_on_commit_callbacks(execute=True):
        services.moderation_decide(item=item, moderator=moderator, action="hide", note="Looking into it.")
    # Only the photo uploaded for the gallery stays: it has no other copy. It is shown to nobody but the owner
    # and moderators while hidden.
    assert [image.role for image in item.images.all()] == ["photo"]
    assert {role for role, key in before.items() if blob_exists(key)} == {"photo"}
    (kept,) = picture_urls(item)
    assert Client().get(kept).status_code == 404
    assert storage_scan().clean
    with django_capture_on_commit_callbacks(execute=True):
        services.moderation_decide(item=item, moderator=moderator, action="restore", note="All fine.")
    after = {image.role: image for image in item.images.all()}
    assert [image.role for image in item.images.all()] == ["artwork", "burn_preview", "photo", "source"]
    assert after["photo"].asset.storage_key == before["photo"]
    assert after["artwork"].asset.storage_key != before["artwork"]  # made again, under a new key
    assert all(Client().get(url).status_code == 200 for url in picture_urls(item))
    assert storage_scan().clean


def test_the_recipe_gives_the_power_speed_and_passes_the_version_was_made_with(user, other_user):
    laser = {"power_pct": 37.0, "speed_mm_min": 2400.0, "passes": 2, "overscan_mm": 4.0, "air_assist": True,
             "scan": "horizontal"}  # fmt: skip
    version = finished_version(user, settings={**SETTINGS, "laser": laser})
    item = services.gallery_publish(owner=user, version=version, title="Two passes")
    text = Client().get(page(item)).content.decode()
    assert "37 % power · 2400 mm/min · 2 passes" in text
    assert "library&#x27;s suggestion" not in text and "library's suggestion" not in text
    visitor = Client()
    visitor.force_login(other_user)
    mine = finished_version(other_user).artwork.source
    visitor.post(reverse("gallery-use", args=[item.public_id]), {"photo": mine.pk})
    artwork = Artwork.objects.filter(owner=other_user).order_by("-pk").first()
    assert artwork.settings["laser"]["power_pct"] == 37.0 and artwork.settings["laser"]["passes"] == 2
    # A version made before versions stored their laser values still says where its values come from.
    older = services.gallery_publish(owner=user, version=finished_version(user), title="Older")
    assert "suggestion for this material" in Client().get(page(older)).content.decode()


def test_burn_report_photos_of_the_version_can_be_chosen_when_publishing(user, other_user):
    from intaglio.credits.services import credits_grant_monthly
    from intaglio.feedback.services import burn_photo_report

    credits_grant_monthly(user=user, period="2026-12")  # a burn report's reading costs a credit
    version = finished_version(user)
    upload = SimpleUploadedFile("burned.jpg", jpeg_with_exif(), "image/jpeg")
    report = burn_photo_report(owner=user, version=version, upload=upload)
    other_version = finished_version(user, title="Other")
    elsewhere = burn_photo_report(
        owner=user, version=other_version, upload=SimpleUploadedFile("x.jpg", jpeg_bytes(100, 80), "image/jpeg")
    )
    client = Client()
    client.force_login(user)
    url = reverse("gallery-publish", args=[version.artwork_id, version.number])
    form = client.get(url).content.decode()
    assert reverse("asset-download", args=[report.photo_id]) in form
    assert reverse("asset-download", args=[elsewhere.photo_id]) not in form  # another version's report
    # Another version's photo is not accepted.
    with pytest.raises(GalleryRefused):
        services.gallery_publish(owner=user, version=version, title="x", report_photo_ids=[elsewhere.photo_id])
    response = client.post(url, {"title": "With its burn", "report_photos": [report.photo_id]})
    item = GalleryItem.objects.get()
    assert response.status_code == 302
    photo = item.images.get(role="photo")
    assert photo.asset_id != report.photo_id and photo.asset.kind == AssetKind.GALLERY_IMAGE  # a clean copy
    served = Client().get(reverse("gallery-picture", args=[item.public_id, photo.public_id]))
    assert SECRET_TEXT.encode() not in b"".join(served.streaming_content)
    assert Asset.objects.filter(pk=report.photo_id).exists()  # the report keeps its own photo


def test_publishing_checks_the_storage_quota(user, settings):
    from intaglio.assets.selectors import storage_used_bytes

    version = finished_version(user)
    used = storage_used_bytes(owner=user)
    settings.PLANS = {**settings.PLANS, "free": {**settings.PLANS["free"], "storage_mb": (used + 50) / 1024 / 1024}}
    with pytest.raises(GalleryRefused) as refused:
        services.gallery_publish(owner=user, version=version, title="Too big")
    assert (refused.value.code, refused.value.status) == ("quota_exceeded", 403)
    assert "Your storage is full" in refused.value.message
    assert not GalleryItem.objects.exists() and not Asset.objects.filter(kind=AssetKind.GALLERY_IMAGE).exists()
    assert storage_scan().clean  # no blob of a copy left behind
    settings.PLANS = {**settings.PLANS, "free": {**settings.PLANS["free"], "storage_mb": used / 1024 / 1024 + 1}}
    assert services.gallery_publish(owner=user, version=version, title="Fits").images.count() == 2


def test_signing_up_from_use_this_recipe_comes_back_to_it(user, mailoutbox):
    item = publish(user)
    use = reverse("gallery-use", args=[item.public_id])
    visitor = Client()
    login = visitor.get(use)
    assert login.status_code == 302
    login_page = visitor.get(login["Location"]).content.decode()
    signup_link = f"{reverse('signup')}?next={use}"
    assert signup_link in login_page
    form = visitor.get(signup_link).content.decode()
    assert f'name="next" value="{use}"' in form
    mailoutbox.clear()
    done = visitor.post(reverse("signup"), {"email": "new.maker@example.com", "password": PASSWORD, "next": use})
    assert done.status_code == 302
    confirmed = visitor.get(email_link(mailoutbox[0], "/verify-email/"))
    assert confirmed.status_code == 302 and confirmed["Location"] == use
    assert visitor.get(use).status_code == 200
    # Only a page of this site: anything else falls back to the dashboard.
    other = Client()
    other.post(
        reverse("signup"), {"email": "x.maker@example.com", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert other.get(email_link(mailoutbox[-1], "/verify-email/"))["Location"] == reverse("dashboard")


def test_the_moderation_queue_is_linked_in_the_header_only_for_moderators(user):
    queue = f'href="{reverse("moderation-queue")}"'
    for who, shown in ((make_moderator(), True), (make_user(is_staff=True), False), (user, False)):
        client = Client()
        client.force_login(who)
        assert (queue in client.get(reverse("gallery-list")).content.decode()) is shown
    assert queue not in Client().get(reverse("gallery-list")).content.decode()
