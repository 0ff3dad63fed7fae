"""Derived metrics (privacy.metrics): kept only under derived_only consent, scalar and allow-listed (E8), surviving
the photo but not the withdrawal (E7)."""

from __future__ import annotations

import base64
import math
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from intaglio.assets.models import AssetKind
from intaglio.assets.services import asset_delete_blobs
from intaglio.core.models import AuditEvent
from intaglio.privacy.consent import consent_grant, consent_withdraw
from intaglio.privacy.metrics import METRICS, MetricRefused, metric_check, metric_record, metrics_usable
from intaglio.privacy.models import DerivedMetric
from tests.factories import jpeg_bytes
from tests.privacy import make_asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def consenting(user):
    consent_grant(user=user, scope="derived_only", source="privacy_page")
    return user


def test_E7_without_consent_nothing_is_kept_past_the_raw_file(user):
    photo = make_asset(user)
    with pytest.raises(MetricRefused) as refused:
        metric_record(owner=user, key="contrast_ratio", value=12.5, source_asset=photo)
    assert refused.value.code == "no_consent" and "not given" in refused.value.message
    # Other consents are not this one.
    for scope in ("broad_learning", "engraved_learning", "internal_review"):
        consent_grant(user=user, scope=scope, source="privacy_page")
    with pytest.raises(MetricRefused):
        metric_record(owner=user, key="contrast_ratio", value=12.5, source_asset=photo)
    # Granted, then withdrawn: refused again.
    consent_grant(user=user, scope="derived_only", source="privacy_page")
    consent_withdraw(user=user, scope="derived_only", source="privacy_page")
    with pytest.raises(MetricRefused):
        metric_record(owner=user, key="contrast_ratio", value=12.5, source_asset=photo)
    assert not DerivedMetric.objects.exists()


def test_E7_a_metric_links_to_the_grant_that_allows_it_and_expires_in_24_months(consenting, settings):
    settings.RETENTION_DERIVED_METRIC_DAYS = 730
    grant = consenting.consent_events.get()
    metric = metric_record(owner=consenting, key="alignment_error_mm", value=0.8)
    assert metric.consent == grant and metric.number == 0.8 and metric.label == ""
    assert abs(metric.expires_at - (timezone.now() + timedelta(days=730))) < timedelta(minutes=1)
    settings.RETENTION_DERIVED_METRIC_DAYS = 30
    short = metric_record(owner=consenting, key="burn_result", value="over")
    assert short.label == "over" and short.number is None
    assert abs(short.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    # Withdrawn and granted again: new metrics point at the new grant.
    consent_withdraw(user=consenting, scope="derived_only", source="api")
    regrant = consent_grant(user=consenting, scope="derived_only", source="api")
    assert metric_record(owner=consenting, key="quality_score", value=0.9).consent == regrant


def test_E7_metrics_survive_the_photo_but_not_withdrawal(consenting, other_user):
    photo = make_asset(consenting)
    kept = [
        metric_record(owner=consenting, key="contrast_ratio", value=31.0, source_asset=photo),
        metric_record(owner=consenting, key="material", value="slate", source_asset=photo),
        metric_record(owner=consenting, key="quality_score", value=0.72, source_asset=photo),
    ]
    consent_grant(user=other_user, scope="derived_only", source="privacy_page")
    someone_else = metric_record(owner=other_user, key="burn_result", value="good")

    photo_id = photo.pk
    photo.delete()
    asset_delete_blobs([photo.storage_key])  # the row and its file, as every deletion path does
    assert DerivedMetric.objects.filter(owner=consenting).count() == 3
    assert {m.source_asset_id for m in DerivedMetric.objects.filter(owner=consenting)} == {photo_id}

    consent_withdraw(user=consenting, scope="derived_only", source="privacy_page")
    assert not DerivedMetric.objects.filter(pk__in=[m.pk for m in kept]).exists()
    assert DerivedMetric.objects.filter(pk=someone_else.pk).exists()
    purge = AuditEvent.objects.get(action="metrics.purged")
    assert purge.subject_user_id == consenting.pk and purge.detail == {"count": 3, "reason": "consent_withdrawn"}


PNG = jpeg_bytes(8, 8)
PIXELS_B64 = base64.b64encode(PNG).decode()


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("contrast_ratio", PNG, "pixels_refused"),
        ("contrast_ratio", bytearray(PNG), "pixels_refused"),
        ("contrast_ratio", memoryview(PNG), "pixels_refused"),
        ("material", PNG, "pixels_refused"),
        ("contrast_ratio", PIXELS_B64, "not_a_number"),
        ("burn_result", PIXELS_B64, "too_long"),
        ("burn_result", PIXELS_B64[:30], "not_in_list"),
        ("material", "data:image/png;base64,iVBORw0KGgo=", "too_long"),
        ("contrast_ratio", np.zeros((4, 4), dtype=np.uint8), "not_scalar"),
        ("contrast_ratio", np.array(3.0), "not_scalar"),
        ("quality_score", [0.1, 0.2], "not_scalar"),
        ("quality_score", (0.5,), "not_scalar"),
        ("quality_score", {"value": 0.5}, "not_scalar"),
        ("material", ["slate"], "not_scalar"),
        ("quality_score", math.nan, "not_finite"),
        ("quality_score", np.float64("inf"), "not_finite"),
        ("contrast_ratio", -math.inf, "not_finite"),
        ("quality_score", True, "not_a_number"),
        ("quality_score", None, "not_a_number"),
        ("quality_score", "0.5", "not_a_number"),
        ("quality_score", 1.01, "out_of_range"),
        ("alignment_error_mm", 50.5, "out_of_range"),
        ("contrast_ratio", -1, "out_of_range"),
        ("burn_result", "perfect", "not_in_list"),
        ("material", "x" * 33, "too_long"),
        ("material", 3, "not_a_label"),
        ("thumbnail", 1.0, "unknown_key"),
        ("pixels", PIXELS_B64, "unknown_key"),
    ],
)
def test_E8_metrics_refuse_pixels_bytes_base64_arrays(consenting, key, value, code):
    with pytest.raises(MetricRefused) as refused:
        metric_record(owner=consenting, key=key, value=value)
    assert refused.value.code == code
    assert refused.value.message and len(refused.value.message) < 300  # says why, without echoing the content
    assert not DerivedMetric.objects.exists()


def test_E8_the_allow_list_keeps_scalars_and_short_labels(consenting):
    assert set(METRICS) >= {"contrast_ratio", "alignment_error_mm", "quality_score", "material", "burn_result"}
    kept = [
        metric_record(owner=consenting, key="contrast_ratio", value=0),
        metric_record(owner=consenting, key="contrast_ratio", value=100),
        metric_record(owner=consenting, key="quality_score", value=np.float32(0.25)),
        metric_record(owner=consenting, key="alignment_error_mm", value=np.int64(2)),
        metric_record(owner=consenting, key="material", value="black-anodised-aluminium"),
        metric_record(owner=consenting, key="machine", value="diode-10w"),
        metric_record(owner=consenting, key="burn_result", value="under"),
    ]
    for metric in DerivedMetric.objects.filter(pk__in=[m.pk for m in kept]):
        assert (metric.number is None) != (metric.label == "")
        assert metric.number is None or isinstance(metric.number, float)
        assert len(metric.label) <= 32
    # The model's columns are the whole record: a number, a label, ids and times; nowhere to put a picture.
    fields = {f.name for f in DerivedMetric._meta.get_fields()}
    assert fields == {"id", "owner", "key", "number", "label", "consent", "source_asset_id", "created_at", "expires_at"}


def test_E8_material_labels_follow_the_library(consenting):
    from intaglio.imaging.artwork import materials

    for name in materials():
        assert metric_check("material", name) == (None, name)
    with pytest.raises(MetricRefused):
        metric_check("material", "unobtainium")


def test_metrics_refuse_other_peoples_photos_and_jewellery(consenting, other_user):
    with pytest.raises(MetricRefused) as refused:
        metric_record(owner=consenting, key="quality_score", value=0.5, source_asset=make_asset(other_user))
    assert refused.value.code == "not_found"
    reference = make_asset(consenting, AssetKind.REFERENCE_IMAGE)
    with pytest.raises(MetricRefused) as refused:
        metric_record(owner=consenting, key="quality_score", value=0.5, source_asset=reference)
    assert refused.value.code == "jewellery_refused"
    assert not DerivedMetric.objects.exists()


def test_J27_a_restricted_account_keeps_no_new_metrics(consenting):
    consenting.restricted = True
    consenting.save(update_fields=["restricted"])
    with pytest.raises(MetricRefused) as refused:
        metric_record(owner=consenting, key="quality_score", value=0.5)
    assert refused.value.code == "restricted"


def test_E10_learning_reads_metrics_of_consenting_accounts_only(consenting, other_user):
    mine = metric_record(owner=consenting, key="quality_score", value=0.5)
    consent_grant(user=other_user, scope="derived_only", source="privacy_page")
    theirs = metric_record(owner=other_user, key="quality_score", value=0.6)
    old = metric_record(owner=other_user, key="contrast_ratio", value=20)
    DerivedMetric.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert set(metrics_usable()) == {mine, theirs}
    assert set(metrics_usable(key="contrast_ratio")) == set()
    other_user.restricted = True
    other_user.save(update_fields=["restricted"])
    assert list(metrics_usable()) == [mine]
