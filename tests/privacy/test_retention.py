"""The retention sweeper: every retention class swept at explicit instants (time travel through `now=`), every
skip reason, a sweep killed midway, idempotency, and the lag E5 bounds."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from intaglio.assets import storage
from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.scan import storage_scan
from intaglio.assets.services import asset_ingest_upload
from intaglio.assets.storage import blob_delete, blob_exists, blob_write
from intaglio.jobs.models import Job, JobState
from intaglio.jobs.runner import _claim
from intaglio.jobs.services import job_create, upload_photo
from intaglio.privacy.consent import consent_grant, consent_withdraw
from intaglio.privacy.metrics import metric_record
from intaglio.privacy.models import ConsentScope, DerivedMetric, RetentionDecision
from intaglio.privacy.retention import retention_lag_report, retention_sweep
from tests.factories import jpeg_bytes, make_user, run_queued_jobs

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def make_asset(owner, *, retention_class=RetentionClass.PRIVATE_UPLOAD, expires_at=None, **fields) -> Asset:
    """An asset with a real blob, as the upload and job services store them (blob first, then row)."""
    asset = Asset(
        owner=owner,
        kind=fields.pop("kind", AssetKind.SOURCE_PHOTO),
        mime="image/jpeg",
        sha256="0" * 64,
        bytes=5,
        download_name="photo.jpg",
        retention_class=retention_class,
        expires_at=expires_at,
        **fields,
    )
    blob_write(asset.storage_key, b"bytes")
    asset.save()
    return asset


def gone(asset: Asset) -> bool:
    """Row and blob both deleted."""
    return not Asset.objects.filter(pk=asset.pk).exists() and not blob_exists(asset.storage_key)


def kept(asset: Asset) -> bool:
    """Row and blob both still there."""
    return Asset.objects.filter(pk=asset.pk).exists() and blob_exists(asset.storage_key)


def decisions(item, item_type="asset"):
    return list(
        RetentionDecision.objects.filter(item_type=item_type, item_id=item.pk)
        .order_by("id")
        .values_list("outcome", "reason")
    )


# --- E3: private uploads ---------------------------------------------------------------------------------------


def test_E3_unattached_upload_is_kept_at_23_hours_and_deleted_at_25(user):
    asset = asset_ingest_upload(owner=user, upload=io.BytesIO(jpeg_bytes()))
    assert asset.retention_class == RetentionClass.PRIVATE_UPLOAD
    clock = asset.expires_at - asset.created_at
    assert abs(clock - timedelta(hours=settings.RETENTION_UNATTACHED_UPLOAD_HOURS)) < timedelta(seconds=1)

    assert retention_sweep(now=asset.created_at + 23 * HOUR)["deleted"] == 0
    assert kept(asset)
    assert decisions(asset) == []  # not expired: not even looked at

    result = retention_sweep(now=asset.created_at + 25 * HOUR)
    assert result["deleted"] == 1
    assert gone(asset)
    assert decisions(asset) == [("deleted", "")]
    assert storage_scan().clean


def test_E3_upload_is_kept_30_days_after_its_last_job_ends_and_the_job_outlives_it(user):
    job = upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes()))
    (source,) = job.inputs.all()
    # While the job is queued the upload has no clock at all, however far the sweep looks ahead.
    assert retention_sweep(now=timezone.now() + 365 * DAY)["deleted"] == 0
    assert kept(source)

    assert run_queued_jobs() == 1
    job.refresh_from_db()
    source.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert abs(source.expires_at - (job.finished_at + 30 * DAY)) < timedelta(seconds=5)

    assert retention_sweep(now=job.finished_at + 29 * DAY)["deleted"] == 0
    assert kept(source)
    retention_sweep(now=job.finished_at + 31 * DAY)
    assert gone(source)
    # The job that used the photo stays, with its record intact; only its link to the file went.
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and not job.inputs.exists()
    assert storage_scan().clean


# --- E4: eligibility, skips, decisions -------------------------------------------------------------------------


def test_E4_input_of_a_queued_or_running_job_is_skipped_then_deleted_once_the_job_ended_and_it_expired(user):
    job = upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes()))
    (source,) = job.inputs.all()
    # An expiry set while a job still needs the file (a race, or a bug elsewhere) must not remove it.
    now = timezone.now()
    Asset.objects.filter(pk=source.pk).update(expires_at=now - HOUR)
    result = retention_sweep(now=now)
    assert result["skipped"] == {"in_use": 1} and result["deleted"] == 0
    assert kept(source)

    _claim(job.pk)  # a worker picks it up: running
    assert Job.objects.get(pk=job.pk).state == JobState.RUNNING
    assert retention_sweep(now=now + HOUR)["skipped"] == {"in_use": 1}
    assert kept(source)
    assert decisions(source) == [("skipped", "in_use")]  # one decision, not one per sweep

    Job.objects.filter(pk=job.pk).update(state=JobState.QUEUED, lease_token="")
    run_queued_jobs()  # the job ends; the 30-day clock starts again from its end
    source.refresh_from_db()
    assert source.expires_at > now + 29 * DAY
    assert retention_sweep(now=now + 2 * DAY)["deleted"] == 0
    assert kept(source)
    # The photo goes with its two previews (scaled copies on the same clock).
    assert retention_sweep(now=source.expires_at + HOUR)["deleted"] == 3
    assert gone(source)
    assert decisions(source) == [("skipped", "in_use"), ("deleted", "")]


def test_E4_output_of_a_job_still_running_is_in_use(user, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "test.steps": 0}
    job = job_create(owner=user, kind="test.steps")
    _claim(job.pk)
    now = timezone.now()
    output = make_asset(user, retention_class=RetentionClass.PRIVATE_UPLOAD, expires_at=now - HOUR, produced_by=job)
    assert retention_sweep(now=now)["skipped"] == {"in_use": 1}
    assert kept(output)

    Job.objects.filter(pk=job.pk).update(state=JobState.FAILED, finished_at=now)
    assert retention_sweep(now=now)["deleted"] == 1
    assert gone(output)
    assert Job.objects.filter(pk=job.pk).exists()


def test_E4_legal_hold_is_never_swept_until_lifted(user):
    now = timezone.now()
    held = make_asset(user, expires_at=now - DAY, legal_hold=True)
    assert retention_sweep(now=now)["skipped"] == {"legal_hold": 1}
    assert retention_sweep(now=now + 365 * DAY)["skipped"] == {"legal_hold": 1}
    assert kept(held)
    assert decisions(held) == [("skipped", "legal_hold")]

    Asset.objects.filter(pk=held.pk).update(legal_hold=False)
    assert retention_sweep(now=now + 366 * DAY)["deleted"] == 1
    assert gone(held)


def test_E4_sweep_is_idempotent_and_skip_decisions_do_not_pile_up(user):
    now = timezone.now()
    expired = [make_asset(user, expires_at=now - HOUR) for _ in range(3)]
    held = make_asset(user, expires_at=now - HOUR, legal_hold=True)

    first = retention_sweep(now=now)
    assert (first["deleted"], first["skipped"], first["decisions"]) == (3, {"legal_hold": 1}, 4)
    for _ in range(3):
        again = retention_sweep(now=now + HOUR)
        assert (again["deleted"], again["skipped"], again["decisions"]) == (0, {"legal_hold": 1}, 0)
    assert RetentionDecision.objects.filter(outcome="deleted").count() == 3
    assert sorted(RetentionDecision.objects.filter(outcome="deleted").values_list("item_id", flat=True)) == sorted(
        a.pk for a in expired
    )
    assert decisions(held) == [("skipped", "legal_hold")]

    # A new reason is news: recorded once.
    Asset.objects.filter(pk=held.pk).update(legal_hold=False, published_at=now)
    retention_sweep(now=now + 2 * HOUR)
    retention_sweep(now=now + 3 * HOUR)
    assert decisions(held) == [("skipped", "legal_hold"), ("skipped", "published")]
    # So is a new expiry with the same reason (the item expired again).
    Asset.objects.filter(pk=held.pk).update(expires_at=now + 4 * HOUR)
    retention_sweep(now=now + 5 * HOUR)
    retention_sweep(now=now + 6 * HOUR)
    assert decisions(held) == [("skipped", "legal_hold"), ("skipped", "published"), ("skipped", "published")]


def test_E4_sweep_killed_midway_leaves_no_orphan_and_the_next_run_finishes(user, monkeypatch):
    now = timezone.now()
    assets = [make_asset(user, expires_at=now - HOUR) for _ in range(7)]
    calls = []

    class Killed(BaseException):
        """The process dies: not an error the sweeper may catch."""

    def dies_after_the_fifth_blob(key):
        calls.append(key)
        if len(calls) > 5:
            raise Killed()  # a dead process deletes nothing more
        blob_delete(key)  # the blob really goes…
        if len(calls) == 5:
            raise Killed()  # …and the process dies before the batch's rows are deleted

    monkeypatch.setattr(storage, "blob_delete", dies_after_the_fifth_blob)
    with pytest.raises(Killed):
        retention_sweep(now=now, batch_size=3)

    # The first batch committed; the second rolled back with some of its blobs already gone.
    assert Asset.objects.filter(pk__in=[a.pk for a in assets]).count() == 4
    assert RetentionDecision.objects.filter(outcome="deleted").count() == 3
    scan = storage_scan()
    assert scan.orphan_blobs == []  # never a blob without its row
    assert scan.missing_blobs == sorted(a.pk for a in assets[3:5])  # rows whose blob went: the next sweep's work

    monkeypatch.setattr(storage, "blob_delete", blob_delete)
    result = retention_sweep(now=now + HOUR, batch_size=3)
    assert result["deleted"] == 4 and result["blobs_failed"] == 0
    assert all(gone(a) for a in assets)
    assert storage_scan().clean
    deleted = list(RetentionDecision.objects.filter(outcome="deleted").values_list("item_id", flat=True))
    assert sorted(deleted) == sorted(a.pk for a in assets)  # one decision each, none twice


def test_E4_a_failed_blob_delete_keeps_row_and_blob_for_the_next_sweep(user, monkeypatch):
    now = timezone.now()
    fine, stuck = make_asset(user, expires_at=now - HOUR), make_asset(user, expires_at=now - HOUR)

    def storage_refuses_one(key):
        if key == stuck.storage_key:
            raise OSError("storage timed out")
        blob_delete(key)

    monkeypatch.setattr(storage, "blob_delete", storage_refuses_one)
    result = retention_sweep(now=now)
    assert (result["deleted"], result["blobs_failed"], result["skipped"]) == (1, 1, {"storage_error": 1})
    assert gone(fine) and kept(stuck)
    assert storage_scan().clean

    monkeypatch.setattr(storage, "blob_delete", blob_delete)
    assert retention_sweep(now=now + HOUR)["deleted"] == 1
    assert gone(stuck)
    assert decisions(stuck) == [("skipped", "storage_error"), ("deleted", "")]


def test_E5_limit_caps_deletions_longest_overdue_first_and_the_next_run_continues(user):
    now = timezone.now()
    held = make_asset(user, expires_at=now - 9 * DAY, legal_hold=True)  # skipped items do not use up the limit
    # Created newest-expiry first, so id order and overdue order disagree.
    assets = [make_asset(user, expires_at=now - h * HOUR) for h in (1, 2, 3, 4, 5)]
    assert retention_sweep(now=now, limit=2, batch_size=2)["deleted"] == 2
    assert [gone(a) for a in assets] == [False, False, False, True, True]
    assert retention_sweep(now=now, limit=2, batch_size=2)["deleted"] == 2
    assert retention_sweep(now=now, limit=2, batch_size=2)["deleted"] == 1
    assert all(gone(a) for a in assets) and kept(held)


# --- E5: bounded, measured lag ---------------------------------------------------------------------------------


def test_E5_lag_is_recorded_per_deletion_and_reported(user):
    now = timezone.now()
    lags_hours = [1, 2, 3, 30]
    assets = [make_asset(user, expires_at=now - h * HOUR) for h in lags_hours]
    result = retention_sweep(now=now)
    assert result["lag_p99_seconds"] == 30 * 3600
    for asset, hours in zip(assets, lags_hours, strict=True):
        decision = RetentionDecision.objects.get(item_id=asset.pk, outcome="deleted")
        assert decision.lag_seconds == hours * 3600
        assert decision.decided_at == now and decision.expires_at == asset.expires_at

    report = retention_lag_report(days=7, now=now + HOUR)
    assert (report["count"], report["p50_seconds"], report["max_seconds"]) == (4, 2 * 3600, 30 * 3600)
    assert report["p99_seconds"] == 30 * 3600 and report["within_target"] is False  # target: p99 ≤ 24 h
    # Deletions older than the window are not counted.
    assert retention_lag_report(days=7, now=now + 8 * DAY)["count"] == 0

    make_asset(user, expires_at=now + 8 * DAY)
    retention_sweep(now=now + 8 * DAY + 2 * HOUR)
    later = retention_lag_report(days=7, now=now + 9 * DAY)
    assert (later["count"], later["p99_seconds"], later["within_target"]) == (1, 2 * 3600, True)


# --- E6: gallery items and curated assets may be kept longer ---------------------------------------------------


def test_E6_published_gallery_item_is_kept_until_its_owner_unpublishes_it(user):
    now = timezone.now()
    photo = make_asset(
        user,
        kind=AssetKind.ENGRAVED_RESULT,
        retention_class=RetentionClass.PRIVATE_FEEDBACK,
        expires_at=now + DAY,
    )
    consent_grant(user=user, scope=ConsentScope.GALLERY_PUBLISH, source="test", asset=photo)
    assert retention_sweep(now=now + 30 * DAY)["skipped"] == {"published": 1}
    assert kept(photo)
    consent_withdraw(user=user, scope=ConsentScope.GALLERY_PUBLISH, source="test", asset=photo)
    assert retention_sweep(now=now + 31 * DAY)["deleted"] == 1
    assert gone(photo)
    assert decisions(photo) == [("skipped", "published"), ("deleted", "")]


def test_E6_curated_training_asset_is_kept_while_broad_learning_consent_lasts(user):
    now = timezone.now()
    consent_grant(user=user, scope=ConsentScope.BROAD_LEARNING, source="test")
    curated = make_asset(user, expires_at=now - DAY, curated=True)
    assert retention_sweep(now=now + 365 * DAY)["skipped"] == {"curated": 1}
    assert kept(curated)
    consent_withdraw(user=user, scope=ConsentScope.BROAD_LEARNING, source="test")  # ends the curation
    assert retention_sweep(now=now + 366 * DAY)["deleted"] == 1
    assert gone(curated)
    assert decisions(curated) == [("skipped", "curated"), ("deleted", "")]


# --- E7: derived metrics, 24 months ----------------------------------------------------------------------------


def test_E7_derived_metric_is_kept_24_months_then_deleted_with_a_decision(user):
    consent_grant(user=user, scope=ConsentScope.DERIVED_ONLY, source="test")
    metric = metric_record(owner=user, key="contrast_ratio", value=12.5)
    created = metric.created_at
    assert metric.expires_at == created + timedelta(days=settings.RETENTION_DERIVED_METRIC_DAYS)
    assert settings.RETENTION_DERIVED_METRIC_DAYS == 730  # the decided default: 24 months
    assert retention_sweep(now=created + 729 * DAY)["deleted"] == 0
    assert DerivedMetric.objects.filter(pk=metric.pk).exists()
    result = retention_sweep(now=created + 731 * DAY)
    assert (result["deleted"], result["deleted_metrics"]) == (1, 1)
    assert not DerivedMetric.objects.filter(pk=metric.pk).exists()
    decision = RetentionDecision.objects.get(item_type="derived_metric", item_id=metric.pk)
    assert (decision.outcome, decision.lag_seconds) == ("deleted", 86400)
    assert retention_sweep(now=created + 732 * DAY)["decisions"] == 0


# --- E12: private feedback, 14 days ----------------------------------------------------------------------------


def feedback_photo(user, created):
    """An engraved-result photo as its upload stores it without consent: private feedback, 14 days."""
    return make_asset(
        user,
        kind=AssetKind.ENGRAVED_RESULT,
        retention_class=RetentionClass.PRIVATE_FEEDBACK,
        created_at=created,
        expires_at=created + timedelta(days=settings.RETENTION_PRIVATE_FEEDBACK_DAYS),
    )


def test_E12_private_feedback_is_kept_14_days_shorter_than_uploads(user):
    created = timezone.now()
    feedback = feedback_photo(user, created)
    assert settings.RETENTION_PRIVATE_FEEDBACK_DAYS == 14 < settings.RETENTION_UPLOAD_AFTER_JOB_DAYS
    assert retention_sweep(now=created + 13 * DAY)["deleted"] == 0
    assert kept(feedback)
    retention_sweep(now=created + 15 * DAY)
    assert gone(feedback)
    decision = RetentionDecision.objects.get(item_id=feedback.pk)
    assert (decision.retention_class, decision.outcome) == ("private_feedback", "deleted")


def test_E12_with_engraved_learning_consent_feedback_stays_until_withdrawal_then_14_days(user):
    created = timezone.now()
    feedback = feedback_photo(user, created)
    consent_grant(user=user, scope=ConsentScope.ENGRAVED_LEARNING, source="test")
    assert retention_sweep(now=created + 100 * DAY)["deleted"] == 0
    assert kept(feedback)
    consent_withdraw(user=user, scope=ConsentScope.ENGRAVED_LEARNING, source="test")
    withdrawn = timezone.now()
    assert retention_sweep(now=withdrawn + 13 * DAY)["deleted"] == 0
    assert kept(feedback)
    assert retention_sweep(now=withdrawn + 15 * DAY)["deleted"] == 1
    assert gone(feedback)


# --- J16 / J21: account content stays while the account is open ------------------------------------------------


def test_J16_account_content_of_an_open_account_is_never_swept_even_with_an_expiry_set_by_mistake(user):
    now = timezone.now()
    artwork = make_asset(user, kind=AssetKind.ARTWORK, retention_class=RetentionClass.ACCOUNT_CONTENT)
    mistaken = make_asset(
        user, kind=AssetKind.GENERATED_IMAGE, retention_class=RetentionClass.ACCOUNT_CONTENT, expires_at=now - DAY
    )
    result = retention_sweep(now=now + 100 * 365 * DAY)
    assert result["deleted"] == 0 and result["skipped"] == {"account_content": 1}
    assert kept(artwork) and kept(mistaken)
    assert decisions(mistaken) == [("skipped", "account_content")]


def test_J21_account_content_of_a_closed_account_is_swept_when_it_expires(user):
    now = timezone.now()
    user.closed_at, user.is_active = now, False
    user.save(update_fields=["closed_at", "is_active"])
    content = make_asset(user, retention_class=RetentionClass.ACCOUNT_CONTENT, expires_at=now + HOUR)
    assert retention_sweep(now=now + 2 * HOUR)["deleted"] == 1
    assert gone(content)


# --- J27: restriction stops processing, not expiry -------------------------------------------------------------


def test_J27_restricted_account_is_still_swept_on_expiry(user):
    restricted = make_user(restricted=True)
    now = timezone.now()
    theirs = make_asset(restricted, expires_at=now - HOUR)
    not_yet = make_asset(restricted, expires_at=now + HOUR)
    assert retention_sweep(now=now)["deleted"] == 1
    assert gone(theirs) and kept(not_yet)


def test_E5_scheduled_sweep_without_arguments_uses_the_real_clock(user):
    # The scheduler calls retention_sweep() with no arguments; the lag is then measured against the real time.
    asset = make_asset(user, expires_at=timezone.now() - HOUR)
    before = timezone.now()
    assert retention_sweep()["deleted"] == 1
    decision = RetentionDecision.objects.get(item_id=asset.pk)
    assert decision.decided_at >= before
    assert 3600 <= decision.lag_seconds < 3600 + 60
