"""How did it burn? (E9, E7, E12, E13): a photo of a finished piece, related to the version it was burned from,
aligned and measured as a job; private feedback unless the owner allows more."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.services import asset_ingest_upload
from intaglio.assets.storage import blob_open
from intaglio.credits.services import credits_grant_monthly
from intaglio.engrave.errors import StudioRefused
from intaglio.engrave.selectors import version_files
from intaglio.engrave.services import artwork_create, artwork_prepare
from intaglio.feedback.models import BurnReport
from intaglio.feedback.services import burn_photo_report, burn_report_delete
from intaglio.jobs.models import JobState
from intaglio.privacy.consent import assets_usable_for, consent_grant, consent_withdraw
from intaglio.privacy.models import DerivedMetric
from intaglio.privacy.retention import retention_sweep
from tests.factories import run_queued_jobs
from tests.imaging.test_burn_photo import burned, photograph

pytestmark = pytest.mark.django_db
SETTINGS = {"material": "birch-plywood", "machine": "diode-10w", "mode": "floyd-steinberg", "width_mm": 60}


def jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def upload(data: bytes, name="photo.jpg"):
    return SimpleUploadedFile(name, data, "image/jpeg")


def read_asset(asset) -> bytes:
    with blob_open(asset.storage_key) as handle:
        return handle.read()


@pytest.fixture
def version(user):
    from skimage import data

    credits_grant_monthly(user=user, period="2026-12")
    source = asset_ingest_upload(owner=user, upload=upload(jpeg(data.camera())))
    made = artwork_prepare(artwork=artwork_create(owner=user, source=source), settings=SETTINGS)
    run_queued_jobs()
    made.job.refresh_from_db()
    assert made.job.state == JobState.SUCCEEDED, made.job.error_detail
    return made


def photo_of(version, extra_mm: float = 0.0, **options) -> bytes:
    """A phone photo of the piece, burned with marks `extra_mm` wider than the version assumed."""
    burn = np.asarray(Image.open(io.BytesIO(read_asset(version_files(version)["png"]))).convert("L")) < 128
    assumed = 0.08 + 0.05  # diode-10w spot + birch-plywood spread
    return photograph(burned(burn, 0.1, assumed + extra_mm), **options)[0]


def measured(user, version, photo: bytes) -> BurnReport:
    report = burn_photo_report(owner=user, version=version, upload=upload(photo))
    run_queued_jobs()
    report.refresh_from_db()
    report.job.refresh_from_db()
    return report


def test_E9_the_photo_is_related_to_its_version_and_measured_against_it(user, version):
    report = measured(user, version, photo_of(version, extra_mm=0.05))
    assert report.job.state == JobState.SUCCEEDED, report.job.error_message
    assert report.version == version and report.photo.kind == AssetKind.ENGRAVED_RESULT
    assert report.metrics["registration_rms_px"] < 1.5
    assert report.metrics["mark_gain_mm"] == pytest.approx(0.05, abs=0.025)
    assert any("wider" in sentence for sentence in report.advice)
    pictures = {asset.role: asset for asset in report.job.outputs.all()}
    assert set(pictures) == {"side-by-side", "difference"}
    assert all(Image.open(io.BytesIO(read_asset(p))).format == "PNG" for p in pictures.values())
    # The report's numbers are scalars only.
    assert all(isinstance(value, float) for value in report.metrics.values())


def test_E9_a_photo_needs_a_version_the_uploader_owns_and_nothing_is_kept_otherwise(user, other_user, version):
    before = Asset.objects.count()
    with pytest.raises(StudioRefused) as refused:
        burn_photo_report(owner=other_user, version=version, upload=upload(photo_of(version)))
    assert refused.value.status == 404
    assert Asset.objects.count() == before and not BurnReport.objects.exists()


def test_E9_a_photo_of_another_picture_is_refused_with_its_reason(user, version):
    from skimage import data

    report = measured(user, version, jpeg(data.astronaut()))
    assert report.job.state == JobState.FAILED and report.job.error_message
    assert report.metrics == {} and not report.job.outputs.exists()


def test_E12_without_consent_the_photo_its_pictures_and_report_go_after_14_days(user, version):
    report = measured(user, version, photo_of(version))
    photo = report.photo
    assert photo.retention_class == RetentionClass.PRIVATE_FEEDBACK
    assert timedelta(days=13.9) < photo.expires_at - timezone.now() <= timedelta(days=14)
    pictures = list(report.job.outputs.all())
    assert {p.expires_at for p in pictures} == {photo.expires_at}
    retention_sweep(now=timezone.now() + timedelta(days=13))
    assert BurnReport.objects.filter(pk=report.pk).exists()
    retention_sweep(now=timezone.now() + timedelta(days=15))
    assert not BurnReport.objects.filter(pk=report.pk).exists()
    assert not Asset.objects.filter(pk__in=[photo.pk, *[p.pk for p in pictures]]).exists()
    # The version's own files are the account's and stay.
    assert set(version_files(version)) >= {"png", "burn-preview"}


def test_E12_with_engraved_learning_the_photo_stays_until_withdrawn_then_14_days(user, version):
    consent_grant(user=user, scope="engraved_learning", source="privacy_page")
    report = measured(user, version, photo_of(version))
    assert report.photo.expires_at is None
    assert all(p.expires_at is None for p in report.job.outputs.all())
    consent_withdraw(user=user, scope="engraved_learning", source="privacy_page")
    report.photo.refresh_from_db()
    assert report.photo.expires_at - timezone.now() <= timedelta(days=14)
    assert all(p.expires_at == report.photo.expires_at for p in report.job.outputs.all())


@pytest.mark.parametrize("derived_only", [False, True])
def test_E7_scalar_metrics_outlive_the_photo_only_with_derived_only(user, version, derived_only):
    if derived_only:
        consent_grant(user=user, scope="derived_only", source="privacy_page")
    report = measured(user, version, photo_of(version, extra_mm=0.04))
    kept = DerivedMetric.objects.filter(owner=user)
    if not derived_only:
        assert not kept.exists()
        return
    assert {"mark_gain_mm", "registration_rms_px", "tone_error_midtones"} <= set(kept.values_list("key", flat=True))
    assert all(m.source_asset_id == report.photo.pk and m.label == "" for m in kept)
    burn_report_delete(report=report)
    assert not BurnReport.objects.exists() and DerivedMetric.objects.filter(owner=user).count() == kept.count()


def test_E13_burn_photos_are_review_input_only_with_internal_review(user, version):
    report = measured(user, version, photo_of(version))
    assert report.photo not in assets_usable_for("internal_review")
    consent_grant(user=user, scope="internal_review", source="privacy_page")
    assert report.photo in assets_usable_for("internal_review")


def test_E11_declining_everything_still_gives_the_report(user, version):
    for scope in ("derived_only", "engraved_learning", "internal_review", "broad_learning"):
        consent_withdraw(user=user, scope=scope, source="privacy_page")
    report = measured(user, version, photo_of(version))
    assert report.job.state == JobState.SUCCEEDED and report.advice


def test_J24_J21_export_holds_the_reports_and_closure_deletes_them(user, version):
    from intaglio.privacy import rights
    from tests.factories import PASSWORD
    from tests.privacy.test_export import open_export, records, schema_errors

    report = measured(user, version, photo_of(version))
    _, manifest = open_export(rights.data_export(user=user))
    assert schema_errors(manifest) == []
    (row,) = records(manifest, "burn_reports")
    assert row["version_id"] == version.pk and row["metrics"] == report.metrics and row["advice"] == report.advice
    assert manifest["sections"]["burn_reports"]["retention_class"] == "private_feedback"
    rights.user_close(user=user, password=PASSWORD)
    rights.account_content_delete(user=user)
    assert not BurnReport.objects.filter(owner=user).exists()
    assert not Asset.objects.filter(owner=user, kind=AssetKind.ENGRAVED_RESULT).exists()
