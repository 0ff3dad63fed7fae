"""`intaglio storage-scan` after real work: zero orphans once every job is deleted, and it notices strays."""

import io

import pytest
from django.core.management import call_command

from intaglio.assets.storage import blob_delete, blob_write
from intaglio.jobs.models import Job
from intaglio.jobs.services import job_delete, upload_photo
from tests.factories import jpeg_bytes, run_queued_jobs


def scan(*args):
    out = io.StringIO()
    try:
        call_command("storage-scan", *args, stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue()


def test_scan_is_clean_after_every_job_is_deleted(user):
    for shade in range(4):
        upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes(900, 700, (60 * shade, 90, 120))))
    run_queued_jobs()
    code, out = scan()
    assert code == 0 and out.startswith("blobs=12 assets=12 orphan_blobs=0 missing_blobs=0")
    for job in Job.objects.all():
        job_delete(job=job)
    code, out = scan()
    assert code == 0 and out.startswith("blobs=0 assets=0 orphan_blobs=0 missing_blobs=0")


@pytest.mark.leaves_orphans
def test_scan_reports_strays_and_missing_blobs_and_exits_1(user):
    job = upload_photo(owner=user, upload=io.BytesIO(jpeg_bytes()))
    (photo,) = job.inputs.all()
    blob_write("blobs/" + "cd" * 20, b"stray")
    blob_delete(photo.storage_key)
    code, out = scan()
    assert code == 1
    assert "orphan blob: blobs/" + "cd" * 20 in out
    assert f"missing blob for asset {photo.pk}" in out


def test_scan_json_output(user):
    import json

    code, out = scan("--json")
    assert code == 0 and json.loads(out)["orphan_blobs"] == []
