"""Consent (privacy.consent) and the workspace Privacy page: append-only history with the notice version, read-time
filters for learning (E10), per-item publishing by the owner only (E14), and declining that never blocks a job (E11).
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intaglio.assets.models import AssetKind, RetentionClass
from intaglio.assets.services import asset_delete_blobs
from intaglio.core.models import AuditEvent
from intaglio.credits.services import credits_grant_monthly
from intaglio.engrave import services as engrave
from intaglio.engrave.selectors import version_files
from intaglio.jobs.models import JobState
from intaglio.jobs.services import upload_photo
from intaglio.privacy import consent
from intaglio.privacy.consent import (
    ACCOUNT_SCOPES,
    ConsentRefused,
    assets_usable_for,
    consent_current,
    consent_grant,
    consent_withdraw,
    users_consenting,
)
from intaglio.privacy.models import ConsentEvent, PolicyVersion
from intaglio.privacy.rights import user_close
from tests.factories import PASSWORD, jpeg_bytes, make_user, run_queued_jobs
from tests.privacy import make_asset

pytestmark = pytest.mark.django_db

SLATE = {"material": "slate", "machine": "diode-10w", "width_mm": 60}


# ------------------------------------------------------------------------------------------------ the service


def test_every_scope_is_off_by_default(user):
    assert consent_current(user) == dict.fromkeys(ACCOUNT_SCOPES, False)
    assert set(ACCOUNT_SCOPES) == {"derived_only", "broad_learning", "engraved_learning", "internal_review"}
    for scope in ACCOUNT_SCOPES:
        assert not users_consenting(scope).exists()
    assert not ConsentEvent.objects.exists()


def test_E16_each_change_carries_the_notice_version_shown_and_is_audited(user):
    first = consent_grant(user=user, scope="derived_only", source="privacy_page")
    assert first.notice_version == "1"  # the version a fresh install publishes
    PolicyVersion.objects.update(published_at=timezone.now() - timedelta(days=60))  # installed two months ago
    PolicyVersion.objects.create(
        version="2026-01", summary="First notice.", published_at=timezone.now() - timedelta(days=9)
    )
    PolicyVersion.objects.create(
        version="2026-03", summary="Clearer words.", published_at=timezone.now() - timedelta(days=1)
    )
    # A version scheduled for later is not the one people see yet.
    PolicyVersion.objects.create(
        version="2027-01", summary="Not yet.", published_at=timezone.now() + timedelta(days=30)
    )
    second = consent_withdraw(user=user, scope="derived_only", source="api")
    assert (second.notice_version, second.source, second.granted) == ("2026-03", "api", False)

    audit = list(AuditEvent.objects.filter(subject_user_id=user.pk, action__startswith="consent.").order_by("at", "id"))
    assert [event.action for event in audit] == ["consent.granted", "consent.withdrawn"]
    assert audit[1].target_id == str(second.pk) and audit[1].actor_id == user.pk
    assert audit[1].detail == {"scope": "derived_only", "notice_version": "2026-03", "source": "api"}


def test_consent_history_is_append_only(user):
    consent_grant(user=user, scope="internal_review", source="privacy_page")
    consent_withdraw(user=user, scope="internal_review", source="privacy_page")
    consent_grant(user=user, scope="internal_review", source="api")
    history = list(consent.consent_history(user=user))
    assert [event.granted for event in history] == [True, False, True]
    assert consent_current(user)["internal_review"] is True
    # A row, once written, cannot be rewritten: the history proves what was chosen under which notice.
    oldest = history[-1]
    oldest.granted = False
    with pytest.raises(ValueError, match="append-only"):
        oldest.save()
    assert ConsentEvent.objects.get(pk=oldest.pk).granted is True


def test_repeating_the_current_state_records_nothing(user):
    """Decision: a grant of what is granted (or a withdrawal of what is off) adds no row, so double clicks and
    retried API calls do not pad the history; an explicit decline of something never granted is the default."""
    assert consent_withdraw(user=user, scope="broad_learning", source="privacy_page") is None
    first = consent_grant(user=user, scope="broad_learning", source="privacy_page")
    again = consent.consent_change(user=user, scope="broad_learning", granted=True, source="api")
    assert again.event == first and not again.changed
    assert ConsentEvent.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action__startswith="consent.").count() == 1


def test_unknown_scopes_and_sources_are_refused(user):
    with pytest.raises(ConsentRefused) as refused:
        consent_grant(user=user, scope="marketing", source="api")
    assert refused.value.code == "unknown_scope"
    with pytest.raises(ConsentRefused) as refused:
        consent_grant(user=user, scope="derived_only", source="")
    assert refused.value.code == "invalid_source"
    with pytest.raises(ConsentRefused) as refused:
        consent_grant(user=user, scope="derived_only", source="api", asset=make_asset(user, AssetKind.ARTWORK))
    assert refused.value.code == "no_item_for_scope"
    assert not ConsentEvent.objects.exists()


def test_E10_withdrawn_learning_consent_is_excluded_at_read_time(user, other_user):
    mine = make_asset(user)
    theirs = make_asset(other_user)
    make_asset(user, AssetKind.SOURCE_PHOTO)  # not an engraved result: never an engraved_learning input
    for person in (user, other_user):
        consent_grant(user=person, scope="engraved_learning", source="privacy_page")
    # The learning run builds its input query once; it is evaluated when the run reads it.
    next_run = assets_usable_for("engraved_learning")
    consent_withdraw(user=user, scope="engraved_learning", source="privacy_page")
    assert list(next_run) == [theirs]
    assert list(users_consenting("engraved_learning")) == [other_user]
    # Granting again brings the photo back for the run after that.
    consent_grant(user=user, scope="engraved_learning", source="privacy_page")
    assert set(assets_usable_for("engraved_learning")) == {mine, theirs}


def test_E10_off_by_default_and_other_scopes_do_not_count(user):
    make_asset(user)
    consent_grant(user=user, scope="internal_review", source="privacy_page")
    consent_grant(user=user, scope="derived_only", source="privacy_page")
    assert not assets_usable_for("engraved_learning").exists()
    assert not assets_usable_for("broad_learning").exists()
    # derived_only allows numbers only: no picture is ever a derived_only input.
    assert not assets_usable_for("derived_only").exists()
    assert assets_usable_for("internal_review").count() == 1


def test_J14_jewellery_pictures_are_never_learning_input(user):
    consent_grant(user=user, scope="broad_learning", source="privacy_page")
    engraving = make_asset(user, AssetKind.SOURCE_PHOTO)
    make_asset(user, AssetKind.REFERENCE_IMAGE)
    make_asset(user, AssetKind.GENERATED_IMAGE)
    assert list(assets_usable_for("broad_learning")) == [engraving]


def test_J27_closed_and_restricted_accounts_are_left_out_of_learning(user, other_user):
    third = make_user()
    for person in (user, other_user, third):
        make_asset(person)
        consent_grant(user=person, scope="engraved_learning", source="privacy_page")
    other_user.restricted = True
    other_user.save(update_fields=["restricted"])
    user_close(user=third, password=PASSWORD)
    assert list(users_consenting("engraved_learning")) == [user]
    assert {a.owner_id for a in assets_usable_for("engraved_learning")} == {user.pk}


def test_E12_withdrawing_engraved_learning_starts_the_14_day_clock(user, settings):
    settings.RETENTION_PRIVATE_FEEDBACK_DAYS = 14
    soon = timezone.now() + timedelta(days=3)
    fresh = make_asset(user, expires_at=timezone.now() + timedelta(days=10))
    expired = make_asset(user, expires_at=timezone.now() - timedelta(hours=1))
    consent_grant(user=user, scope="engraved_learning", source="privacy_page")
    fresh.refresh_from_db(), expired.refresh_from_db()
    # Kept while the consent holds; an already expired photo is not brought back.
    assert fresh.expires_at is None and expired.expires_at < timezone.now()

    consent_withdraw(user=user, scope="engraved_learning", source="privacy_page")
    fresh.refresh_from_db()
    assert abs(fresh.expires_at - (timezone.now() + timedelta(days=14))) < timedelta(minutes=1)
    # A photo that would go sooner anyway keeps its earlier date.
    sooner = make_asset(user, expires_at=soon)
    consent_withdraw(user=user, scope="engraved_learning", source="privacy_page")
    sooner.refresh_from_db()
    assert sooner.expires_at == soon
    assert sooner.retention_class == RetentionClass.PRIVATE_FEEDBACK


def test_E6_withdrawing_broad_learning_ends_curation(user, other_user):
    mine = make_asset(user, AssetKind.SOURCE_PHOTO, curated=True)
    theirs = make_asset(other_user, AssetKind.SOURCE_PHOTO, curated=True)
    consent_grant(user=user, scope="broad_learning", source="privacy_page")
    consent_withdraw(user=user, scope="broad_learning", source="privacy_page")
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert not mine.curated and theirs.curated


def test_E14_only_the_owner_publishes(user, other_user):
    artwork = make_asset(user, AssetKind.ARTWORK)
    reviewer = make_user(is_staff=True)
    for stranger in (other_user, reviewer):
        with pytest.raises(ConsentRefused) as refused:
            consent_grant(user=stranger, scope="gallery_publish", source="gallery", asset=artwork)
        assert refused.value.status == 404
    artwork.refresh_from_db()
    assert artwork.published_at is None and not ConsentEvent.objects.exists()

    event = consent_grant(user=user, scope="gallery_publish", source="gallery", asset=artwork)
    artwork.refresh_from_db()
    assert artwork.published_at == event.created_at and event.asset == artwork and event.granted
    # Nor can anyone else take it down: unpublishing is the owner's too.
    with pytest.raises(ConsentRefused):
        consent_withdraw(user=other_user, scope="gallery_publish", source="gallery", asset=artwork)
    artwork.refresh_from_db()
    assert artwork.published_at is not None

    consent_withdraw(user=user, scope="gallery_publish", source="privacy_page", asset=artwork)
    artwork.refresh_from_db()
    assert artwork.published_at is None
    assert [e.granted for e in ConsentEvent.objects.filter(scope="gallery_publish")] == [False, True]
    # gallery_publish is per item, never an account-wide state.
    assert "gallery_publish" not in consent_current(user)


def test_E14_only_finished_work_can_be_published_and_an_item_is_required(user):
    photo = make_asset(user, AssetKind.SOURCE_PHOTO)
    with pytest.raises(ConsentRefused) as refused:
        consent_grant(user=user, scope="gallery_publish", source="gallery", asset=photo)
    assert refused.value.code == "not_publishable"
    with pytest.raises(ConsentRefused) as refused:
        consent_grant(user=user, scope="gallery_publish", source="gallery")
    assert refused.value.code == "item_required"
    photo.refresh_from_db()
    assert photo.published_at is None


def test_a_deleted_published_item_leaves_its_history(user):
    artwork = make_asset(user, AssetKind.ARTWORK)
    consent_grant(user=user, scope="gallery_publish", source="gallery", asset=artwork)
    artwork.delete()
    asset_delete_blobs([artwork.storage_key])  # the row and its file, as every deletion path does
    event = ConsentEvent.objects.get(user=user)
    assert event.asset is None and event.scope == "gallery_publish" and event.granted


@pytest.fixture
def photo(user):
    credits_grant_monthly(user=user, period="2026-11")
    job = upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes(900, 600, (150, 110, 80))))
    run_queued_jobs()
    return job.inputs.get()


def test_E11_declining_every_scope_never_blocks_a_job(user, photo):
    for scope in ACCOUNT_SCOPES:
        consent_grant(user=user, scope=scope, source="privacy_page")
        consent_withdraw(user=user, scope=scope, source="privacy_page")
    # Not publishing the photo is a choice too (per item; it was never published, so nothing is recorded).
    assert consent_withdraw(user=user, scope="gallery_publish", source="privacy_page", asset=photo) is None
    assert consent_current(user) == dict.fromkeys(ACCOUNT_SCOPES, False)
    artwork = engrave.artwork_create(owner=user, source=photo, title="Declined everything")
    version = engrave.artwork_prepare(artwork=artwork, settings=SLATE)
    run_queued_jobs()
    version.job.refresh_from_db()
    assert version.job.state == JobState.SUCCEEDED, version.job.error_message
    assert set(version_files(version)) == {"png", "svg", "gcode", "lbrn2", "burn-preview"}


# ------------------------------------------------------------------------------------------------- the page

PAGE = "/account/privacy/"


def _csrf(response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, "the page has no CSRF token"
    return match.group(1)


def test_the_privacy_page_is_at_its_url_and_needs_a_login(client, user):
    assert reverse("privacy-settings") == PAGE
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.post(reverse("privacy-consent-set", args=["derived_only"]), {"granted": "1"}).status_code == 302
    assert not ConsentEvent.objects.exists()


def test_the_page_explains_each_scope_and_starts_with_everything_off(logged_in, user):
    response = logged_in.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    for scope in ACCOUNT_SCOPES:
        card = re.search(
            rf'<li class="card consent-card" id="consent-{scope}".*?class="consent-meta">.*?</p>', html, re.S
        )
        assert card, f"no card for {scope}"
        text = card.group(0)
        assert "What it allows" in text and "What it never allows" in text
        assert ">Off<" in text and "Turn on" in text and 'name="granted" value="1"' in text
        assert f'action="{reverse("privacy-consent-set", args=[scope])}"' in text
    # gallery_publish is explained, not switched account-wide.
    assert 'id="consent-gallery_publish"' not in html and "chosen item by item" in html
    assert "0</strong> of 4 on" in html and "No choices made yet" in html
    assert "Privacy notice version 1" in html


def test_one_click_turns_a_consent_on_and_one_click_turns_it_off(csrf_client, user):
    csrf_client.force_login(user)
    token = _csrf(csrf_client.get(PAGE))
    url = reverse("privacy-consent-set", args=["engraved_learning"])
    on = csrf_client.post(url, {"granted": "1", "csrfmiddlewaretoken": token})
    assert on.status_code == 302 and on["Location"] == f"{PAGE}#consent-engraved_learning"
    assert consent_current(user)["engraved_learning"] is True
    page = csrf_client.get(PAGE).content.decode()
    assert "is on. You can turn it off here at any time." in page
    assert 'class="card consent-card is-on" id="consent-engraved_learning"' in page
    off = csrf_client.post(url, {"granted": "0", "csrfmiddlewaretoken": token})
    assert off.status_code == 302 and consent_current(user)["engraved_learning"] is False
    assert [e.source for e in ConsentEvent.objects.all()] == ["privacy_page", "privacy_page"]
    # Turning on and turning off are the same button: equally prominent.
    buttons = re.findall(r'<button type="submit" class="([^"]+)" aria-label="[^"]+">Turn (on|off)', page)
    assert {label for _, label in buttons} == {"on", "off"} and {cls for cls, _ in buttons} == {"button consent-button"}


def test_the_buttons_need_the_csrf_token_and_a_post(csrf_client, user):
    csrf_client.force_login(user)
    url = reverse("privacy-consent-set", args=["derived_only"])
    assert csrf_client.post(url, {"granted": "1"}).status_code == 403
    assert csrf_client.get(url).status_code == 405
    assert not ConsentEvent.objects.exists()


def test_nonsense_posts_change_nothing(logged_in, user):
    assert logged_in.post(reverse("privacy-consent-set", args=["derived_only"]), {"granted": "yes"}).status_code == 400
    assert logged_in.post(reverse("privacy-consent-set", args=["gallery_publish"]), {"granted": "1"}).status_code == 404
    assert logged_in.post(reverse("privacy-consent-set", args=["marketing"]), {"granted": "1"}).status_code == 404
    assert not ConsentEvent.objects.exists()


def test_the_history_lists_date_scope_change_version_and_place(logged_in, user):
    PolicyVersion.objects.update(published_at=timezone.now() - timedelta(days=60))  # installed two months ago
    PolicyVersion.objects.create(version="2026-02", summary="Second.", published_at=timezone.now() - timedelta(days=1))
    consent_grant(user=user, scope="internal_review", source="api")
    consent_withdraw(user=user, scope="internal_review", source="privacy_page")
    html = logged_in.get(PAGE).content.decode()
    rows = re.findall(r"<tr>\s*<td class=\"history-date\">.*?</tr>", html, re.S)
    assert len(rows) == 2
    newest, oldest = rows
    assert "Let our team review my engravings" in newest and "Turned off" in newest
    assert "v2026-02" in newest and "Privacy settings page" in newest
    assert "Turned on" in oldest and ">API<" in oldest
    assert "2 changes" in html


def test_E14_the_page_unpublishes_only_the_owners_items(logged_in, user, other_user):
    artwork = make_asset(user, AssetKind.ARTWORK)
    theirs = make_asset(other_user, AssetKind.ARTWORK)
    consent_grant(user=user, scope="gallery_publish", source="gallery", asset=artwork)
    consent_grant(user=other_user, scope="gallery_publish", source="gallery", asset=theirs)
    html = logged_in.get(PAGE).content.decode()
    assert f"Artwork #{artwork.pk}" in html and f"Artwork #{theirs.pk}" not in html
    # Someone else's item answers 404 and stays published.
    response = logged_in.post(reverse("privacy-gallery-set", args=[theirs.pk]), {"granted": "0"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.published_at is not None
    response = logged_in.post(reverse("privacy-gallery-set", args=[artwork.pk]), {"granted": "0"})
    assert response.status_code == 302 and response["Location"] == f"{PAGE}#gallery"
    artwork.refresh_from_db()
    assert artwork.published_at is None
    # An outside address to come back to is ignored.
    response = logged_in.post(
        reverse("privacy-gallery-set", args=[artwork.pk]), {"granted": "1", "next": "https://elsewhere.example/"}
    )
    assert response["Location"] == f"{PAGE}#gallery"


def test_the_account_page_links_to_the_privacy_page(logged_in):
    assert f'href="{PAGE}"' in logged_in.get(reverse("account")).content.decode()
