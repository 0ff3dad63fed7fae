"""The job poll (GET /api/v1/jobs/{id}) and the job list stay cheap: a fixed number of queries whatever the number of
files, and no database write but the rate-limit counter (which lives in the database on PostgreSQL)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intaglio.assets.models import Asset, AssetKind, RetentionClass
from intaglio.assets.storage import blob_write
from intaglio.jobs.models import Job, JobState

pytestmark = pytest.mark.django_db

# The token with its user, the job, its files.
POLL_QUERIES = 3
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def finished_job(owner, *, inputs: int, outputs: int) -> Job:
    now = timezone.now()
    job = Job.objects.create(
        owner=owner,
        kind="preview",
        state=JobState.SUCCEEDED,
        progress=100,
        started_at=now,
        finished_at=now,
        result={"measurements": list(range(500))},
        error_detail="internal trace, never shown",
    )

    def asset(kind, role, produced_by=None):
        stored = Asset.objects.create(
            owner=owner,
            kind=kind,
            role=role,
            mime="image/jpeg",
            sha256="0" * 64,
            bytes=1000,
            width=40,
            height=30,
            download_name=f"{role or 'photo'}.jpg",
            retention_class=RetentionClass.PRIVATE_UPLOAD,
            produced_by=produced_by,
        )
        blob_write(stored.storage_key, b"bytes the poll never reads")
        return stored

    job.inputs.add(*[asset(AssetKind.SOURCE_PHOTO, "") for _ in range(inputs)])
    for index in range(outputs):
        asset(AssetKind.PREVIEW, f"output-{index}", produced_by=job)
    return job


def measured_get(client, path, token):
    """Statements of one GET, after a first one (which may record the token's first use), without the counter's."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get(path, **headers).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200, response.content
    statements = [query["sql"] for query in captured.captured_queries if "core_ratecounter" not in query["sql"]]
    return response.json(), statements


@pytest.mark.parametrize(("inputs", "outputs"), [(1, 1), (3, 4)])
def test_job_poll_makes_a_fixed_number_of_reads_and_no_write(client, user, token, inputs, outputs):
    job = finished_job(user, inputs=inputs, outputs=outputs)
    body, statements = measured_get(client, f"/api/v1/jobs/{job.pk}", token)
    assert [len(body["inputs"]), len(body["outputs"])] == [inputs, outputs]
    assert {"download_name", "content_url", "created_at"} <= set(body["outputs"][0])
    assert len(statements) == POLL_QUERIES, statements
    assert not [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)]


def test_job_list_reads_do_not_grow_with_jobs_or_files(client, user, token):
    finished_job(user, inputs=1, outputs=1)
    _, few = measured_get(client, "/api/v1/jobs", token)
    for _ in range(3):
        finished_job(user, inputs=2, outputs=3)
    body, many = measured_get(client, "/api/v1/jobs", token)
    assert len(body["items"]) == 4
    assert len(many) == len(few), many
    assert not [sql for sql in many if sql.lstrip().upper().startswith(WRITES)]


def test_job_poll_tells_inputs_from_outputs_when_a_file_feeds_another_job(client, user, token):
    first = finished_job(user, inputs=2, outputs=2)
    made = list(first.outputs.order_by("pk"))
    second = finished_job(user, inputs=0, outputs=1)
    second.inputs.add(made[1])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    first_body = client.get(f"/api/v1/jobs/{first.pk}", **headers).json()
    second_body = client.get(f"/api/v1/jobs/{second.pk}", **headers).json()
    assert [file["id"] for file in first_body["outputs"]] == [asset.pk for asset in made]
    assert [file["id"] for file in first_body["inputs"]] == sorted(asset.pk for asset in first.inputs.all())
    assert [file["id"] for file in second_body["inputs"]] == [made[1].pk]
    assert [file["id"] for file in second_body["outputs"]] == [second.outputs.get().pk]
