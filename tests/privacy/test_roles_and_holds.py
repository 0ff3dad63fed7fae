"""The privacy officer role, and legal holds surviving a user's deletion of a job."""

import io

from django.contrib.auth.models import Group
from PIL import Image

from intaglio.assets.models import Asset
from intaglio.jobs.services import job_delete, upload_photo
from intaglio.privacy.roles import PRIVACY_OFFICER_GROUP
from tests.factories import make_user, run_queued_jobs


def test_the_privacy_officer_group_holds_the_data_request_permissions(db):
    from django.db.models.signals import post_migrate

    from intaglio.privacy.roles import privacy_officer_group_ensure

    # migrate makes it; a test that flushed the database may have removed it since, so run the hook again.
    assert privacy_officer_group_ensure in [receiver[1]() for receiver in post_migrate.receivers]
    privacy_officer_group_ensure()
    group = Group.objects.get(name=PRIVACY_OFFICER_GROUP)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"change_datarequest", "view_auditevent", "change_policyversion"} <= codenames


def test_E6_a_file_under_legal_hold_outlives_the_deletion_of_its_job(user):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buffer, "JPEG")
    job = upload_photo(owner=user, upload=io.BytesIO(buffer.getvalue()))
    run_queued_jobs()
    photo = job.inputs.get()
    Asset.objects.filter(pk=photo.pk).update(legal_hold=True)
    job_delete(job=job)
    assert Asset.objects.filter(pk=photo.pk).exists()
    assert Asset.objects.filter(owner=user).count() == 1  # the preview and thumbnail went


def test_E3_a_photos_previews_follow_its_clock_and_made_artwork_stays(user):
    from datetime import timedelta

    from intaglio.assets.models import RetentionClass
    from intaglio.credits.services import credits_grant_monthly
    from intaglio.engrave import services as engrave
    from intaglio.privacy.retention import retention_sweep

    credits_grant_monthly(user=user, period="2026-11")
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (90, 60, 30)).save(buffer, "JPEG")
    job = upload_photo(owner=user, upload=io.BytesIO(buffer.getvalue()))
    run_queued_jobs()
    photo = job.inputs.get()
    previews = list(job.outputs.all())
    assert {p.retention_class for p in previews} == {RetentionClass.PRIVATE_UPLOAD}
    assert {p.expires_at for p in previews} == {Asset.objects.get(pk=photo.pk).expires_at}
    artwork = engrave.artwork_create(owner=user, source=photo)
    version = engrave.artwork_prepare(
        artwork=artwork, settings={"material": "maple", "machine": "diode-10w", "width_mm": 30}
    )
    # While the photo is in use again, neither it nor its previews may expire.
    assert not Asset.objects.filter(owner=user, expires_at__isnull=False).exists()
    run_queued_jobs()
    files = list(version.job.outputs.all())
    assert files and {f.retention_class for f in files} == {RetentionClass.ACCOUNT_CONTENT}
    assert all(f.expires_at is None for f in files)
    photo.refresh_from_db()
    retention_sweep(now=photo.expires_at + timedelta(days=1))
    assert set(Asset.objects.filter(owner=user).values_list("pk", flat=True)) == {f.pk for f in files}


def test_deletions_by_people_are_audited_without_content(logged_in, user):
    from intaglio.core.models import AuditEvent
    from intaglio.engrave import services as engrave

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buffer, "JPEG")
    job = upload_photo(owner=user, upload=io.BytesIO(buffer.getvalue()))
    run_queued_jobs()
    artwork = engrave.artwork_create(owner=user, source=job.inputs.get(), title="Grandma Rose")
    assert logged_in.post(f"/engrave/{artwork.pk}/delete/").status_code == 302
    assert logged_in.post(f"/jobs/{job.pk}/delete/").status_code == 302
    events = {event.action: event for event in AuditEvent.objects.filter(subject_user_id=user.pk)}
    assert events["artwork.deleted"].target_id == str(artwork.pk) and events["artwork.deleted"].actor == user
    assert events["job.deleted"].detail == {"kind": "preview", "files": 3}
    assert {events["artwork.deleted"].actor_role, events["job.deleted"].actor_role} == {"customer"}
    assert "Grandma" not in str([(e.detail, e.target_id) for e in events.values()])

    # Someone else deleting the owner's things is recorded as staff acting for them.
    staff = make_user(is_staff=True)
    other = upload_photo(owner=user, upload=io.BytesIO(buffer.getvalue()))
    job_delete(job=other, actor=staff)
    by_staff = AuditEvent.objects.get(action="job.deleted", target_id=str(other.pk))
    assert (by_staff.actor, by_staff.actor_role, by_staff.subject_user_id) == (staff, "staff", user.pk)


def test_E4_a_file_expired_or_swept_cannot_start_a_new_job(user):
    from datetime import timedelta

    import pytest
    from django.utils import timezone

    from intaglio.credits.services import credits_grant_monthly
    from intaglio.jobs.services import JobRefused, job_create
    from intaglio.privacy.retention import retention_sweep

    credits_grant_monthly(user=user, period="2026-11")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buffer, "JPEG")
    photo = upload_photo(owner=user, upload=io.BytesIO(buffer.getvalue())).inputs.get()
    run_queued_jobs()
    params = {"material": "maple", "machine": "diode-10w", "width_mm": 20}
    Asset.objects.filter(pk=photo.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(JobRefused) as expired:
        job_create(owner=user, kind="engrave.prepare", params=params, inputs=[photo])
    assert expired.value.code == "invalid_inputs" and "expired" in expired.value.message
    retention_sweep()
    with pytest.raises(JobRefused) as swept:
        job_create(owner=user, kind="engrave.prepare", params=params, inputs=[photo])  # a stale copy of the row
    assert swept.value.code == "invalid_inputs"
