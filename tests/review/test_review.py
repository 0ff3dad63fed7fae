"""Internal review (E13) and curation (E6): what a reviewer's queue holds, verdicts, curation under broad-learning
consent, withdrawals taking effect at once, every look at a file audited and shown to its owner, and the export and
erasure of it all."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intaglio.accounts.roles import Role
from intaglio.assets.models import Asset, RetentionClass
from intaglio.core.audit import STAFF_FILE_VIEWED, audit_staff_view
from intaglio.core.models import AuditEvent
from intaglio.jobs.models import Job, JobState
from intaglio.privacy import rights
from intaglio.privacy.retention import retention_sweep
from intaglio.privacy.roles import privacy_officer_group_ensure
from intaglio.review.models import Verdict
from intaglio.review.selectors import review_queue
from intaglio.review.services import REVIEW_REASON, ReviewRefused, curation_set, review_file_open, verdict_record
from tests.factories import make_user
from tests.gallery import finished_version
from tests.privacy.test_export import schema_errors
from tests.review import BROAD, REVIEW, allow, burn_photo, make_staff, withdraw, workshop_capture

pytestmark = pytest.mark.django_db


def _queue_ids() -> set[int]:
    return set(review_queue().values_list("pk", flat=True))


def _verdict(reviewer, asset, **marks) -> Verdict:
    values = {"style_valid": True, "material_valid": True, "settings_valid": False, "note": "Too much power."}
    return verdict_record(reviewer=reviewer, asset_id=asset.pk, **{**values, **marks})


def test_E13_the_queue_holds_only_engraved_photos_and_captures_of_accounts_allowing_review_now():
    allowing, declining, closed = make_user(), make_user(), make_user()
    allow(allowing, REVIEW)
    allow(closed, REVIEW)
    photo, capture = burn_photo(allowing), workshop_capture(allowing)
    version = finished_version(allowing)  # a source photo, an artwork and a preview: never review input
    job = Job.objects.create(owner=allowing, kind="feedback.burn_photo", state=JobState.SUCCEEDED, params={})
    derived = burn_photo(allowing)
    Asset.objects.filter(pk=derived.pk).update(produced_by=job)  # a picture a job made from a photo
    burn_photo(declining), workshop_capture(declining)
    burn_photo(closed)
    closed.closed_at = timezone.now()
    closed.save(update_fields=["closed_at"])
    assert _queue_ids() == {photo.pk, capture.pk}
    assert version.artwork.source_id not in _queue_ids()

    allow(declining, REVIEW)  # read at each request: a grant brings the items in at once
    assert {a.owner_id for a in review_queue()} == {allowing.pk, declining.pk}


def test_E13_withdrawing_internal_review_takes_the_items_out_and_ends_their_curation_at_once():
    owner, reviewer = make_user(), make_staff(Role.REVIEWER)
    allow(owner, REVIEW, BROAD)
    photo = burn_photo(owner)
    _verdict(reviewer, photo)
    assert curation_set(reviewer=reviewer, asset_id=photo.pk, curated=True).curated

    withdraw(owner, REVIEW)
    photo.refresh_from_db()
    assert photo.pk not in _queue_ids()
    assert photo.curated is False
    for act in (
        lambda: _verdict(reviewer, photo),
        lambda: curation_set(reviewer=reviewer, asset_id=photo.pk, curated=True),
        lambda: review_file_open(reviewer=reviewer, asset_id=photo.pk),
    ):
        with pytest.raises(ReviewRefused) as refused:
            act()
        assert refused.value.status == 404
    assert not AuditEvent.objects.filter(action=STAFF_FILE_VIEWED, target_id=str(photo.pk)).exists()


def test_E13_a_verdict_judges_style_material_and_settings_and_is_audited_without_its_note():
    owner, reviewer = make_user(), make_staff(Role.REVIEWER)
    allow(owner, REVIEW)
    capture = workshop_capture(owner)
    verdict = _verdict(reviewer, capture, material_valid=False, note="Slate chipped at the edge.")
    assert (verdict.style_valid, verdict.material_valid, verdict.settings_valid) == (True, False, False)
    assert verdict.valid is False and verdict.reviewer == reviewer
    event = AuditEvent.objects.get(action="review.verdict")
    assert (event.actor, event.actor_role, event.subject_user_id) == (reviewer, "reviewer", owner.pk)
    assert "Slate" not in json.dumps(event.detail)
    with pytest.raises(ReviewRefused):
        _verdict(reviewer, capture, note="  ")


def test_E13_only_a_reviewer_acts_on_the_queue():
    owner = make_user()
    allow(owner, REVIEW)
    photo = burn_photo(owner)
    for someone in (make_user(), owner, make_staff(Role.MODERATOR), make_staff(Role.FACTORY), make_staff()):
        with pytest.raises(ReviewRefused):
            _verdict(someone, photo)
        with pytest.raises(ReviewRefused):
            review_file_open(reviewer=someone, asset_id=photo.pk)
    assert not Verdict.objects.exists()


def test_E6_curation_needs_broad_learning_and_outlives_the_retention_class_until_withdrawn():
    owner, reviewer = make_user(), make_staff(Role.REVIEWER)
    allow(owner, REVIEW)
    photo = burn_photo(owner)
    assert photo.retention_class == RetentionClass.PRIVATE_FEEDBACK and photo.expires_at is not None
    with pytest.raises(ReviewRefused) as refused:
        curation_set(reviewer=reviewer, asset_id=photo.pk, curated=True)
    assert refused.value.code == "no_consent"

    allow(owner, BROAD)
    curation_set(reviewer=reviewer, asset_id=photo.pk, curated=True)
    after_expiry = photo.expires_at + timedelta(hours=1)
    assert retention_sweep(now=after_expiry)["skipped"].get("curated") == 1
    assert Asset.objects.filter(pk=photo.pk, curated=True).exists()
    assert AuditEvent.objects.filter(action="review.curated", target_id=str(photo.pk), actor=reviewer).exists()

    withdraw(owner, BROAD)  # the photo stays in the queue (internal review still on) but is no longer kept
    assert photo.pk in _queue_ids()
    assert Asset.objects.get(pk=photo.pk).curated is False
    retention_sweep(now=after_expiry)
    assert not Asset.objects.filter(pk=photo.pk).exists()


def test_E6_a_workshop_capture_is_curated_like_the_owners_own_photos():
    owner, reviewer = make_user(), make_staff(Role.REVIEWER)
    allow(owner, REVIEW)
    capture = workshop_capture(owner)
    with pytest.raises(ReviewRefused) as refused:
        curation_set(reviewer=reviewer, asset_id=capture.pk, curated=True)
    assert refused.value.code == "no_consent"
    allow(owner, BROAD)
    assert curation_set(reviewer=reviewer, asset_id=capture.pk, curated=True).curated
    withdraw(owner, BROAD)
    assert Asset.objects.get(pk=capture.pk).curated is False


def test_E13_every_look_at_a_file_is_audited_with_who_which_when_and_why_and_shown_to_its_owner():
    owner, reviewer = make_user(), make_staff(Role.REVIEWER)
    allow(owner, REVIEW)
    photo = burn_photo(owner)
    client = Client()
    client.force_login(reviewer)
    page = client.get(reverse("review-item", args=[photo.pk]))
    assert page.status_code == 200
    assert not AuditEvent.objects.filter(action=STAFF_FILE_VIEWED).exists()  # the page alone reads no file
    for _ in range(2):
        response = client.get(reverse("review-file", args=[photo.pk]))
        assert response.status_code == 200 and b"".join(response.streaming_content)
        assert response["Cache-Control"] == "no-store"
    views = AuditEvent.objects.filter(action=STAFF_FILE_VIEWED).order_by("at")
    assert [(v.actor, v.actor_role, v.target_id, v.subject_user_id) for v in views] == [
        (reviewer, "reviewer", str(photo.pk), owner.pk)
    ] * 2
    assert views[0].detail["reason"] == REVIEW_REASON

    mine = Client()
    mine.force_login(owner)
    data_page = mine.get(reverse("data-rights")).content.decode()
    assert data_page.count("Internal review") >= 2 and f"Reviewer, staff no. {reviewer.pk}" in data_page
    assert f"file #{photo.pk}" in data_page
    other = make_user()
    other_client = Client()
    other_client.force_login(other)
    assert "Nobody at Intaglio has opened your files." in other_client.get(reverse("data-rights")).content.decode()


def test_E13_the_export_lists_verdicts_and_staff_accesses_and_follows_the_schema():
    owner, reviewer, other = make_user(), make_staff(Role.REVIEWER), make_user()
    allow(owner, REVIEW)
    allow(other, REVIEW)
    photo = burn_photo(owner)
    _verdict(reviewer, photo, note="Crisp lines.")
    _verdict(reviewer, burn_photo(other), note="Not theirs to see.")
    review_file_open(reviewer=reviewer, asset_id=photo.pk)[1].close()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(rights.data_export(user=owner))).read("manifest.json"))
    assert schema_errors(manifest) == []
    verdicts = manifest["sections"]["review_verdicts"]["records"]
    assert [(v["file_id"], v["note"], v["settings_valid"]) for v in verdicts] == [(photo.pk, "Crisp lines.", False)]
    accesses = manifest["sections"]["staff_accesses"]["records"]
    assert [(a["staff_id"], a["role"], a["file_id"], a["reason"]) for a in accesses] == [
        (reviewer.pk, "reviewer", photo.pk, REVIEW_REASON)
    ]


def test_E6_E13_erasure_removes_verdicts_and_curated_photos_and_keeps_only_the_access_record():
    owner, reviewer = make_user(), make_staff(Role.REVIEWER)
    allow(owner, REVIEW, BROAD)
    photo = burn_photo(owner)
    _verdict(reviewer, photo)
    curation_set(reviewer=reviewer, asset_id=photo.pk, curated=True)
    review_file_open(reviewer=reviewer, asset_id=photo.pk)[1].close()
    rights.account_close(user=owner)
    assert photo.pk not in _queue_ids()  # a closed account's consent no longer counts
    counts = rights.account_content_delete(user=owner)
    assert counts["review_verdicts"] == 1
    assert not Verdict.objects.exists()
    assert not Asset.objects.filter(pk=photo.pk).exists()
    # The audit log keeps the access (ids only), which the officer's export of the closed account still lists.
    assert AuditEvent.objects.filter(action=STAFF_FILE_VIEWED, subject_user_id=owner.pk).count() == 1


def test_the_audit_admin_answers_who_looked_at_a_customers_files_this_month():
    customer, someone_else = make_user(), make_user()
    first, second = make_staff(Role.REVIEWER), make_staff(Role.FACTORY)
    photo, elsewhere = burn_photo(customer), burn_photo(someone_else)
    now = timezone.now()
    this_month = [
        audit_staff_view(actor=first, role=Role.REVIEWER, asset=photo, reason=REVIEW_REASON),
        audit_staff_view(actor=second, role=Role.FACTORY, asset=photo, reason="production order"),
    ]
    last_month = audit_staff_view(actor=first, role=Role.REVIEWER, asset=photo, reason=REVIEW_REASON)
    AuditEvent.objects.filter(pk=last_month.pk).update(at=now.replace(day=1) - timedelta(days=2))
    audit_staff_view(actor=first, role=Role.REVIEWER, asset=elsewhere, reason=REVIEW_REASON)
    link = f"{reverse('admin:core_auditevent_changelist')}?staff_views=month&subject_user_id={customer.pk}"
    admin = Client()
    admin.force_login(make_user(is_staff=True, is_superuser=True))
    user_page = admin.get(reverse("admin:accounts_user_change", args=[customer.pk])).content.decode()
    assert link.replace("&", "&amp;") in user_page  # the account's admin page links to the answer
    officer = make_user(is_staff=True)
    officer.groups.add(privacy_officer_group_ensure())
    client = Client()
    client.force_login(officer)
    response = client.get(link)
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert sorted(e.pk for e in shown) == sorted(e.pk for e in this_month)
    assert {e.actor for e in shown} == {first, second}
    reviewer_client = Client()
    reviewer_client.force_login(first)
    assert reviewer_client.get(link).status_code == 403  # the audit log is the privacy officers'
