"""The privacy officer role, and legal holds surviving a user's deletion of a job."""

import io

from django.contrib.auth.models import Group
from PIL import Image

from intaglio.assets.models import Asset
from intaglio.jobs.services import job_delete, upload_photo
from intaglio.privacy.roles import PRIVACY_OFFICER_GROUP
from tests.factories import run_queued_jobs


def test_the_privacy_officer_group_holds_the_data_request_permissions(db):
    group = Group.objects.get(name=PRIVACY_OFFICER_GROUP)  # made by migrate
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
