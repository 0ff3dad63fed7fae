"""Account closure (J20), content deletion after closure (J21), purge at closed_at + 90 days with a pseudonymised
ledger (J22), and the ledger's own 6-year limit. Time travel goes through the services' `now=`."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from intaglio.accounts.models import ApiToken, User
from intaglio.assets.models import Asset
from intaglio.assets.services import asset_ingest_upload
from intaglio.assets.storage import blob_exists
from intaglio.core.models import AuditEvent
from intaglio.credits.models import EntryKind, LedgerEntry
from intaglio.credits.services import credits_grant_monthly
from intaglio.engrave import services as engrave
from intaglio.engrave.models import Artwork, ArtworkVersion, CalibrationProfile, MachineProfile, MaterialPreset
from intaglio.jobs.models import Job, JobState
from intaglio.jobs.services import job_create, upload_photo
from intaglio.privacy import rights
from intaglio.privacy import rights as account_services
from intaglio.privacy.consent import consent_grant
from intaglio.privacy.metrics import metric_record
from intaglio.privacy.models import ConsentEvent, ConsentScope, DataRequest, DerivedMetric
from tests.factories import PASSWORD, jpeg_bytes, make_token, make_user, run_queued_jobs

pytestmark = pytest.mark.django_db
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@dataclass
class Stock:
    """What a busy account holds: every kind of record the closure, purge and export must handle."""

    user: User
    photo: Asset  # uploaded, with a finished preview job
    loose_upload: Asset  # uploaded, attached to no job
    preview_job: Job
    steps_job: Job  # finished, one output, used as an artwork version
    in_flight: Job  # queued, holding credits
    artwork: Artwork
    machine: MachineProfile
    preset: MaterialPreset
    calibration: CalibrationProfile
    metric: DerivedMetric
    assets: list[Asset] = field(default_factory=list)

    def blob_keys(self) -> list[str]:
        return [a.storage_key for a in self.assets]


def make_stocked_account(user: User | None = None) -> Stock:
    user = user or make_user()
    credits_grant_monthly(user=user, period="2026-11")
    preview_job = upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes(640, 480)))
    steps_job = job_create(owner=user, kind="test.steps", params={"steps": 1})
    run_queued_jobs()
    preview_job.refresh_from_db()
    steps_job.refresh_from_db()
    assert preview_job.state == JobState.SUCCEEDED and steps_job.state == JobState.SUCCEEDED
    photo = preview_job.inputs.get()
    loose = asset_ingest_upload(owner=user, upload=io.BytesIO(jpeg_bytes(320, 240, color=(10, 200, 90))))
    artwork = engrave.artwork_create(owner=user, source=photo, title="Rex on slate")
    ArtworkVersion.objects.create(artwork=artwork, number=1, settings={"material": "slate"}, job=steps_job)
    machine = engrave.machine_profile_save(
        owner=user,
        values={
            "name": "Workshop diode",
            "kind": "diode",
            "power_w": 10,
            "spot_mm": 0.08,
            "line_interval_mm": 0.1,
            "max_feed_mm_min": 6000,
            "work_area_w_mm": 400,
            "work_area_h_mm": 400,
        },
    )
    preset = engrave.material_preset_save(owner=user, values={"name": "Dark slate", "material": "slate"})
    calibration = CalibrationProfile.objects.create(
        owner=user,
        material="slate",
        machine=f"mine:{machine.pk}",
        machine_label=machine.name,
        machine_kind="diode",
        mode="floyd-steinberg",
        line_interval_mm=0.1,
        mark_diameter_mm=0.14,
        tone=[[0.5, 0.58], [1.0, 1.0]],
        tone_response=[[0.5, 0.55], [1.0, 1.0]],
        grid=[{"power_pct": 60, "speed_mm_min": 3000, "darkness": 0.71}],
    )
    consent_grant(user=user, scope=ConsentScope.DERIVED_ONLY, source="test")
    metric = metric_record(owner=user, key="quality_score", value=0.82, source_asset=photo)
    in_flight = job_create(owner=user, kind="test.steps", params={"steps": 3}, idempotency_key="in-flight")
    assets = list(Asset.objects.filter(owner=user))
    assert len(assets) >= 5  # photo, thumbnail, web preview, steps output, loose upload
    assert all(blob_exists(a.storage_key) for a in assets)
    return Stock(
        user=user,
        photo=photo,
        loose_upload=loose,
        preview_job=preview_job,
        steps_job=steps_job,
        in_flight=in_flight,
        artwork=artwork,
        machine=machine,
        preset=preset,
        calibration=calibration,
        metric=metric,
        assets=assets,
    )


def close(user: User) -> User:
    account_services.user_close(user=user, password=PASSWORD)
    user.refresh_from_db()
    return user


def content_left(user_id: int) -> dict[str, int]:
    return {
        "jobs": Job.objects.filter(owner_id=user_id).count(),
        "assets": Asset.objects.filter(owner_id=user_id).count(),
        "artworks": Artwork.objects.filter(owner_id=user_id).count(),
        "machines": MachineProfile.objects.filter(owner_id=user_id).count(),
        "presets": MaterialPreset.objects.filter(owner_id=user_id).count(),
        "calibrations": CalibrationProfile.objects.filter(owner_id=user_id).count(),
        "metrics": DerivedMetric.objects.filter(owner_id=user_id).count(),
    }


NOTHING = {"jobs": 0, "assets": 0, "artworks": 0, "machines": 0, "presets": 0, "calibrations": 0, "metrics": 0}


# ------------------------------------------------------------------------------------------------------- J20


def test_J20_closure_disables_login_ends_sessions_and_tokens_at_once_and_is_audited(user, mailoutbox):
    browser = Client()
    browser.force_login(user)
    raw_token = make_token(user)
    assert browser.get("/dashboard/").status_code == 200
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw_token}").status_code == 200

    close(user)

    assert not user.is_active and user.closed_at is not None and not user.has_usable_password()
    # The open session is over on its next request; the token is refused; the password no longer logs in.
    response = browser.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw_token}").status_code == 401
    assert not ApiToken.objects.filter(user=user, revoked_at=None).exists()
    login = Client().post("/login/", {"username": user.email, "password": PASSWORD})
    assert SESSION_KEY not in login.wsgi_request.session
    event = AuditEvent.objects.get(action="account.closed")
    assert event.subject_user_id == user.pk and event.actor_id == user.pk and event.detail["tokens_revoked"] == 1
    assert mailoutbox[-1].to == [user.email] and "closed" in mailoutbox[-1].subject


def test_J20_account_row_is_purged_at_closed_at_plus_90_days_not_before():
    stock = make_stocked_account()
    user = close(stock.user)
    user_id, closed_at = user.pk, user.closed_at
    data_request = rights.data_request_create(kind="access", email=user.email, user=user, channel="self_service")
    days = settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS

    assert rights.accounts_purge_due(now=closed_at + timedelta(days=days) - HOUR) == {"purged": 0, "deferred": 0}
    assert User.objects.filter(pk=user_id).exists()
    assert ConsentEvent.objects.filter(user_id=user_id).exists()  # account data stays for the 90 days

    assert rights.accounts_purge_due(now=closed_at + timedelta(days=days)) == {"purged": 1, "deferred": 0}
    assert not User.objects.filter(pk=user_id).exists()
    assert not ConsentEvent.objects.filter(user_id=user_id).exists()
    assert not ApiToken.objects.filter(user_id=user_id).exists()
    assert content_left(user_id) == NOTHING  # content went too, even without a closures_process run
    data_request.refresh_from_db()
    assert data_request.user_id is None and data_request.email  # the request record stays (3 years)
    purged = AuditEvent.objects.get(action="account.purged")
    assert purged.subject_user_id == user_id and purged.detail["reason"] == "retention"
    # Idempotent: a second run finds nothing.
    assert rights.accounts_purge_due(now=closed_at + timedelta(days=days + 1)) == {"purged": 0, "deferred": 0}


def test_J20_an_open_account_is_never_purged(user):
    credits_grant_monthly(user=user, period="2026-11")
    assert rights.accounts_purge_due(now=timezone.now() + timedelta(days=3650)) == {"purged": 0, "deferred": 0}
    assert User.objects.filter(pk=user.pk).exists()
    with pytest.raises(rights.RightsError):
        rights.account_purge(user=user)


# ------------------------------------------------------------------------------------------------------- J21


def test_J21_closure_deletes_all_content_and_blobs_within_24_hours():
    bystander = make_stocked_account()  # an open account: nothing of it may go (J16)
    stock = make_stocked_account()  # made second, so its in-flight job is still queued
    user = close(stock.user)
    assert content_left(user.pk) != NOTHING  # closing alone deletes nothing yet

    totals = rights.closures_process(now=user.closed_at + HOUR)

    assert totals["accounts"] == 1 and totals["late"] == 0 and totals["blob_failures"] == 0
    assert content_left(user.pk) == NOTHING
    assert not any(blob_exists(key) for key in stock.blob_keys())
    user.refresh_from_db()
    assert user.content_deleted_at == user.closed_at + HOUR
    assert user.content_deleted_at - user.closed_at <= timedelta(hours=settings.RETENTION_CLOSED_CONTENT_HOURS)
    # The in-flight job was cancelled before it went: its held credits came back.
    assert LedgerEntry.objects.filter(idempotency_key=f"job:{stock.in_flight.pk}:release").exists()
    # The account row and its history stay until the purge (J20).
    assert User.objects.filter(pk=user.pk).exists() and ConsentEvent.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="account.content_deleted")
    assert event.subject_user_id == user.pk and event.detail["files"] >= 1 and event.detail["lag_hours"] == 1.0
    # The open account keeps everything.
    left = content_left(bystander.user.pk)
    assert left.pop("assets") >= len(bystander.assets)  # its in-flight job ran meanwhile and added an output
    assert left == {"jobs": 3, "artworks": 1, "machines": 1, "presets": 1, "calibrations": 1, "metrics": 1}
    assert all(blob_exists(key) for key in bystander.blob_keys())


def test_J21_closures_process_is_idempotent_and_reports_late_runs():
    stock = make_stocked_account()
    user = close(stock.user)
    late = user.closed_at + timedelta(hours=settings.RETENTION_CLOSED_CONTENT_HOURS + 1)
    assert rights.closures_process(now=late)["late"] == 1
    events = AuditEvent.objects.filter(action="account.content_deleted").count()
    assert rights.closures_process(now=late + DAY) == {
        "accounts": 0,
        "late": 0,
        "jobs": 0,
        "files": 0,
        "blob_failures": 0,
    }
    assert AuditEvent.objects.filter(action="account.content_deleted").count() == events


def test_J21_a_running_job_is_stopped_and_its_late_output_never_lands():
    from intaglio.jobs.runner import JobContext, LeaseLost, _claim

    stock = make_stocked_account()
    claimed = _claim(stock.in_flight.pk)  # a worker holds it, mid-run
    assert claimed is not None
    job, token, _ = claimed
    user = close(stock.user)
    rights.closures_process(now=user.closed_at + HOUR)
    assert not Job.objects.filter(pk=stock.in_flight.pk).exists()

    class Keeper:
        lost = False

    worker = JobContext(job, token, Keeper())
    with pytest.raises(LeaseLost):
        worker.save_output(kind="export", role="result", data=b"late", mime="text/plain", download_name="late.txt")
    assert content_left(user.pk) == NOTHING


def test_J21_files_under_legal_hold_stay_and_defer_the_purge():
    stock = make_stocked_account()
    Asset.objects.filter(pk=stock.loose_upload.pk).update(legal_hold=True)
    user = close(stock.user)
    rights.closures_process(now=user.closed_at + HOUR)
    assert list(Asset.objects.filter(owner=user).values_list("pk", flat=True)) == [stock.loose_upload.pk]
    assert blob_exists(stock.loose_upload.storage_key)

    purge_at = user.closed_at + timedelta(days=settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS)
    assert rights.accounts_purge_due(now=purge_at) == {"purged": 0, "deferred": 1}
    assert rights.accounts_purge_due(now=purge_at + DAY) == {"purged": 0, "deferred": 1}
    assert AuditEvent.objects.filter(action="account.purge_deferred").count() == 1  # recorded once
    # The hold ends: the next run purges.
    Asset.objects.filter(pk=stock.loose_upload.pk).update(legal_hold=False)
    assert rights.accounts_purge_due(now=purge_at + 2 * DAY) == {"purged": 1, "deferred": 0}
    assert not blob_exists(stock.loose_upload.storage_key)


# ------------------------------------------------------------------------------------------------------- J22


def test_J22_purge_keeps_the_ledger_pseudonymised():
    stock = make_stocked_account()
    user = close(stock.user)
    user_id, email = user.pk, user.email
    rows_before = list(LedgerEntry.objects.filter(user=user).order_by("pk").values_list("pk", "kind", "delta"))
    assert {kind for _, kind, _ in rows_before} >= {EntryKind.GRANT, EntryKind.RESERVE}

    rights.accounts_purge_due(now=user.closed_at + timedelta(days=settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS))

    rows = LedgerEntry.objects.filter(pk__in=[pk for pk, _, _ in rows_before]).order_by("pk")
    assert list(rows.values_list("pk", "kind", "delta")) == rows_before  # every billing row kept, unchanged amounts
    ref = rights.ledger_subject_ref(user_id)
    for row in rows:
        assert row.user_id is None and row.subject_ref == ref and row.pseudonymised_at is not None
        # Nothing in the row names the person: no user id in its key, no e-mail anywhere.
        assert f":{user_id}:" not in row.idempotency_key and email not in f"{row.memo}{row.idempotency_key}"
    assert len(ref) == 64 and str(user_id) != ref
    # The pseudonym depends on the secret key: without it, the id cannot be recovered by trying ids.
    assert rights.ledger_subject_ref(user_id) != rights.ledger_subject_ref(user_id + 1)


def test_J22_pseudonymised_ledger_rows_go_after_6_years_live_ones_stay():
    stock = make_stocked_account()
    live = make_user()
    credits_grant_monthly(user=live, period="2020-01")
    user = close(stock.user)
    rights.accounts_purge_due(now=user.closed_at + timedelta(days=settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS))
    oldest = LedgerEntry.objects.filter(user=None).order_by("created_at").first().created_at
    years = settings.RETENTION_LEDGER_YEARS

    assert rights.ledger_prune(now=rights.add_months(oldest, 12 * years) - HOUR) == 0
    assert LedgerEntry.objects.filter(user=None).exists()
    pruned = rights.ledger_prune(now=rights.add_months(timezone.now(), 12 * years) + HOUR)
    assert pruned >= 2 and not LedgerEntry.objects.filter(user=None).exists()
    assert LedgerEntry.objects.filter(user=live).count() == 1  # a live account's balance is never pruned
    assert AuditEvent.objects.get(action="ledger.pruned").detail == {"count": pruned}


def test_J22_purge_without_pseudonymisation_is_impossible(user):
    # PROTECT on the ledger's user: an account with billing rows cannot simply be deleted (from the admin, say).
    from django.db.models import ProtectedError

    credits_grant_monthly(user=user, period="2026-11")
    with pytest.raises(ProtectedError):
        user.delete()


def test_data_request_records_are_pruned_3_years_after_the_answer(user):
    old = rights.data_request_create(kind="access", email=user.email, user=user, channel="self_service")
    rights.data_request_decide(data_request=old, status="completed", outcome="Sent.", notify=False)
    answered = DataRequest.objects.get(pk=old.pk).completed_at
    years = settings.RETENTION_DATA_REQUEST_YEARS
    assert rights.data_requests_prune(now=rights.add_months(answered, 12 * years) - HOUR) == 0
    assert rights.data_requests_prune(now=rights.add_months(answered, 12 * years) + HOUR) == 1
    assert not DataRequest.objects.filter(pk=old.pk).exists()
