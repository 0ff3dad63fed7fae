"""The blob store's contract, on the local directory and on a real S3 server (radosgw) through django-storages.

Random keys that never carry user file names; files served only to their owner or through an expiring signed
link, with Content-Disposition and nosniff; storage scan finds orphans both ways.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid

import boto3
import pytest
from botocore.client import Config
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from intaglio.assets.models import Asset
from intaglio.assets.scan import storage_scan
from intaglio.assets.services import asset_ingest_upload, asset_signed_url
from intaglio.assets.storage import (
    blob_delete,
    blob_delete_many,
    blob_exists,
    blob_keys,
    blob_open,
    blob_storage,
    blob_write,
)
from tests.factories import jpeg_bytes


@pytest.fixture(scope="module")
def s3_bucket(s3_env):
    client = boto3.client(
        "s3",
        endpoint_url=s3_env["S3_ENDPOINT_URL"],
        aws_access_key_id=s3_env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=s3_env["S3_SECRET_ACCESS_KEY"],
        region_name=s3_env["S3_REGION"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    name = f"intaglio-contract-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name)
    return name


def s3_storage_setting(s3_env: dict, bucket: str) -> dict:
    """STORAGES["default"] exactly as settings.py builds it from the INTAGLIO_S3_* variables."""
    env = {
        **os.environ,
        "INTAGLIO_S3_BUCKET": bucket,
        "INTAGLIO_S3_ENDPOINT_URL": s3_env["S3_ENDPOINT_URL"],
        "INTAGLIO_S3_ACCESS_KEY_ID": s3_env["S3_ACCESS_KEY_ID"],
        "INTAGLIO_S3_SECRET_ACCESS_KEY": s3_env["S3_SECRET_ACCESS_KEY"],
        "INTAGLIO_S3_REGION": s3_env["S3_REGION"],
        "DJANGO_SETTINGS_MODULE": "intaglio.settings",
    }
    code = "import json; from django.conf import settings; print(json.dumps(settings.STORAGES['default']))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    setting = json.loads(out)
    assert setting["BACKEND"] == "storages.backends.s3.S3Storage"
    return setting


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request, settings):
    """Points the default storage at the backend under test, configured the way settings.py does it."""
    if request.param == "s3":
        s3_env = request.getfixturevalue("s3_env")
        bucket = request.getfixturevalue("s3_bucket")
        settings.STORAGES = {**settings.STORAGES, "default": s3_storage_setting(s3_env, bucket)}
        # One bucket serves the module: clear what earlier tests left.
        for key in list(blob_keys()):
            blob_delete(key)
    return request.param


def upload(name="Grandma Rose's birthday.jpg", data=None):
    return SimpleUploadedFile(name, data or jpeg_bytes(800, 600), content_type="image/jpeg")


def test_round_trip_exists_list_and_idempotent_delete(backend):
    key = f"blobs/{uuid.uuid4().hex}"
    body = bytes(range(256)) * 1000
    blob_write(key, body)
    assert blob_exists(key)
    with blob_open(key) as handle:
        assert handle.read() == body
    assert key in set(blob_keys())
    blob_delete(key)
    blob_delete(key)  # already gone: not an error
    assert not blob_exists(key)
    assert key not in set(blob_keys())


def test_many_blobs_go_in_one_call_and_missing_ones_are_not_errors(backend, monkeypatch):
    from intaglio.assets import storage

    monkeypatch.setattr(storage, "S3_DELETE_BATCH", 4)  # several requests on S3, with a partial last one
    keys = [f"blobs/{uuid.uuid4().hex}" for _ in range(9)]
    for key in keys:
        blob_write(key, b"x")
    keep = f"blobs/{uuid.uuid4().hex}"
    blob_write(keep, b"kept")
    assert blob_delete_many([*keys, f"blobs/{uuid.uuid4().hex}"]) == set()  # the last one never existed
    assert not any(blob_exists(key) for key in keys)
    assert blob_exists(keep) and keep in set(blob_keys())
    blob_delete(keep)


def test_keys_are_random_and_never_carry_the_file_name(backend, user):
    assets = [asset_ingest_upload(owner=user, upload=upload()) for _ in range(3)]
    keys = [asset.storage_key for asset in assets]
    assert all(re.fullmatch(r"blobs/[0-9a-f]{40}", key) for key in keys)  # 160 random bits
    assert len(set(keys)) == 3
    for asset in assets:
        # The name is the owner's title for the photo (shown to them, in their downloads), never part of the key.
        assert "grandma" not in asset.storage_key.lower() and asset.title == "Grandma Rose's birthday"
        assert blob_exists(asset.storage_key)
        with blob_open(asset.storage_key) as handle:
            assert handle.read()[:2] == b"\xff\xd8"


def test_only_the_owner_downloads_through_the_file_view(backend, user, other_user):
    asset = asset_ingest_upload(owner=user, upload=upload())
    owner, other, anonymous = Client(), Client(), Client()
    owner.force_login(user)
    other.force_login(other_user)
    url = f"/files/{asset.pk}/"
    response = owner.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline; filename=")
    assert owner.get(url + "?download=1")["Content-Disposition"].startswith("attachment; filename=")
    assert other.get(url).status_code == 404
    assert anonymous.get(url).status_code == 302  # to the log-in page


def test_signed_link_works_without_a_session_then_expires(backend, user, settings):
    asset = asset_ingest_upload(owner=user, upload=upload())
    settings.SIGNED_URL_SECONDS = 2
    signed_at = time.time()
    url = asset_signed_url(asset=asset, download=True)
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = Client().get(f"/{path}")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    time.sleep(max(0.0, signed_at + 2.1 - time.time()))
    assert Client().get(f"/{path}").status_code == 404


def test_a_tampered_or_foreign_signed_link_is_refused(backend, user):
    asset = asset_ingest_upload(owner=user, upload=upload())
    url = asset_signed_url(asset=asset)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    assert Client().get(path[:-3] + "abc").status_code == 404
    assert Client().get("/files/signed?t=").status_code == 404
    assert Client().get("/files/signed").status_code == 404


@pytest.mark.leaves_orphans
def test_storage_scan_reports_orphans_in_both_directions(backend, user):
    kept = asset_ingest_upload(owner=user, upload=upload())
    gone = asset_ingest_upload(owner=user, upload=upload())
    assert storage_scan().clean
    blob_write("blobs/" + "ab" * 20, b"stray")
    blob_delete(gone.storage_key)
    report = storage_scan()
    assert report.orphan_blobs == ["blobs/" + "ab" * 20]
    assert report.missing_blobs == [gone.pk]
    assert report.blobs == 2 and report.assets == 2
    assert Asset.objects.filter(pk=kept.pk).exists()
    assert blob_storage().exists(kept.storage_key)
