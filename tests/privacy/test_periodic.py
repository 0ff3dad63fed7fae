"""The privacy deadlines run from the scheduler, without an outside cron."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from intaglio.assets.models import Asset
from intaglio.core import scheduler
from intaglio.jobs.services import upload_photo
from intaglio.privacy.rights import account_close
from tests.factories import run_queued_jobs


def _photo(user):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(buffer, "JPEG")
    upload_photo(owner=user, upload=io.BytesIO(buffer.getvalue()))
    run_queued_jobs()


def test_the_privacy_deadlines_are_scheduled():
    names = {task.name for task in scheduler.registered()}
    assert {
        "privacy.retention_sweep",
        "privacy.closures",
        "privacy.purge_accounts",
        "privacy.prune_ledger",
        "privacy.data_request_alerts",
        "privacy.storage_scan",
    } <= names


def test_J21_the_scheduler_deletes_a_closed_accounts_content_within_a_day(user, other_user):
    _photo(user)
    _photo(other_user)
    account_close(user=user)
    user.refresh_from_db()
    ran = scheduler.scheduler_tick(now=user.closed_at + timedelta(hours=1))
    assert "privacy.closures" in ran
    user.refresh_from_db()
    assert user.content_deleted_at is not None
    assert not Asset.objects.filter(owner=user).exists()
    assert Asset.objects.filter(owner=other_user).count() == 3  # the photo, its preview and thumbnail


def test_J20_the_scheduler_purges_the_account_after_90_days(user, other_user):
    # The periodic work reads the real clock, so the closures are dated in the past instead.
    account_close(user=user)
    account_close(user=other_user)
    now = timezone.now()
    type(user).objects.filter(pk=user.pk).update(closed_at=now - timedelta(days=89, hours=23))
    type(user).objects.filter(pk=other_user.pk).update(closed_at=now - timedelta(days=90, minutes=5))
    assert "privacy.purge_accounts" in scheduler.scheduler_tick(now=now)
    assert type(user).objects.filter(pk=user.pk).exists()
    assert not type(user).objects.filter(pk=other_user.pk).exists()


@pytest.mark.leaves_orphans
def test_the_daily_storage_scan_reports_both_kinds_of_orphan(user, caplog):
    from intaglio.assets.storage import blob_write

    _photo(user)
    blob_write("blobs/" + "f" * 40, b"stray")
    Asset.objects.filter(owner=user, role="thumbnail").update(storage_key="blobs/" + "0" * 40)
    outcome = next(task for task in scheduler.registered() if task.name == "privacy.storage_scan").run()
    assert outcome["orphan_blobs"] == 2 and outcome["missing_blobs"] == 1  # the stray and the unreferenced thumb
    assert "storage.scan_found_orphans" in caplog.text
