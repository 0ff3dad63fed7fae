"""The upload layer: byte caps while the body streams, refusals with codes, quota and plan limits."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.test import RequestFactory
from django.test.client import BOUNDARY, encode_multipart

from intaglio.assets import uploads
from intaglio.assets.models import Asset
from intaglio.assets.services import UploadRefused, asset_ingest_upload
from intaglio.assets.storage import blob_keys
from tests.factories import jpeg_bytes
from tests.imaging import corpus


def parse(body_files: dict[str, bytes]):
    """Runs Django's real multipart parser with the project's upload handlers over a crafted request."""
    body = encode_multipart(BOUNDARY, {name: SimpleUploadedFile(name, data) for name, data in body_files.items()})
    meta = {"CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}", "CONTENT_LENGTH": str(len(body))}
    handlers = [uploads.CappedUploadHandler()]
    _post, files = MultiPartParser(meta, io.BytesIO(body), handlers).parse()
    return files


def test_a_file_over_the_cap_is_dropped_while_streaming(settings, monkeypatch):
    settings.UPLOAD_MAX_BYTES = 256 * 1024
    written = []
    original = uploads.CappedUploadHandler.receive_data_chunk

    def spy(self, raw_data, start):
        result = original(self, raw_data, start)
        written.append(self.spool.tell())
        return result

    monkeypatch.setattr(uploads.CappedUploadHandler, "receive_data_chunk", spy)
    files = parse({"big.jpg": b"\xff" * (3 * 1024 * 1024), "small.jpg": b"\xd8" * 1000})
    big, small = files["big.jpg"], files["small.jpg"]
    assert big.too_large and big.size > settings.UPLOAD_MAX_BYTES and big.read() == b""
    assert max(written) <= settings.UPLOAD_MAX_BYTES  # never buffered past the cap
    assert not small.too_large and small.read() == b"\xd8" * 1000


def test_an_oversized_request_is_refused_from_its_headers(settings):
    settings.UPLOAD_MAX_BYTES, settings.UPLOAD_MAX_FILES = 1024 * 1024, 2
    request = RequestFactory().post("/x", data=b"", content_type="multipart/form-data; boundary=x")
    request.META["CONTENT_LENGTH"] = str(10 * 1024 * 1024)
    with pytest.raises(UploadRefused) as refused:
        uploads.check_upload_request(request)
    assert (refused.value.code, refused.value.status) == ("too_large", 413)
    with pytest.raises(UploadRefused) as too_many:
        uploads.check_file_count([1, 2, 3])
    assert too_many.value.code == "too_many_files" and "at most 2" in too_many.value.message


def test_a_capped_upload_is_refused_with_a_clear_message(user, settings):
    settings.UPLOAD_MAX_BYTES = 256 * 1024
    (upload,) = parse({"big.jpg": jpeg_bytes(10, 10) + b"\x00" * 400_000}).values()
    with pytest.raises(UploadRefused) as refused:
        asset_ingest_upload(owner=user, upload=upload)
    assert refused.value.code == "too_large"
    assert refused.value.message == "This file is larger than the 256 KB limit for one upload."
    assert not Asset.objects.exists() and not list(blob_keys())


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"", "empty_file", 422),
        (corpus.truncated_jpeg(), "corrupt_image", 422),
        (corpus.HTML, "unsupported_type", 415),
        (corpus.SVG, "unsupported_type", 415),
        (corpus.png_bomb(), "decompression_bomb", 422),
        (corpus.png_bomb(6_000, 6_000), "too_many_pixels", 422),  # over the free plan's 24 MP
    ],
)
def test_hostile_files_are_refused_with_codes_and_nothing_is_stored(user, data, code, status):
    with pytest.raises(UploadRefused) as refused:
        asset_ingest_upload(owner=user, upload=io.BytesIO(data))
    assert (refused.value.code, refused.value.status) == (code, status)
    assert refused.value.message
    assert not Asset.objects.exists() and not list(blob_keys())


def test_the_plan_caps_megapixels_below_the_platform_limit(user, settings):
    settings.PLANS = {**settings.PLANS, "free": {**settings.PLANS["free"], "max_image_mp": 1}}
    with pytest.raises(UploadRefused) as refused:
        asset_ingest_upload(owner=user, upload=io.BytesIO(jpeg_bytes(1500, 1000)))
    assert refused.value.code == "too_many_pixels"
    assert "Your plan accepts images up to 1 megapixels" in refused.value.message


def test_the_storage_quota_is_enforced_and_leaves_no_blob(user, settings):
    settings.PLANS = {**settings.PLANS, "free": {**settings.PLANS["free"], "storage_mb": 1}}
    noisy = corpus.encode(corpus.noise(700, 700, seed=3), "PNG")  # ~1.4 MB once stored as PNG
    with pytest.raises(UploadRefused) as refused:
        asset_ingest_upload(owner=user, upload=io.BytesIO(noisy))
    assert (refused.value.code, refused.value.status) == ("quota_exceeded", 403)
    assert "Your storage is full" in refused.value.message
    assert not Asset.objects.exists() and not list(blob_keys())


def test_a_gps_tagged_photo_is_stored_without_any_metadata(user):
    asset = asset_ingest_upload(owner=user, upload=io.BytesIO(corpus.gps_photo()))
    from intaglio.assets.storage import blob_open

    with blob_open(asset.storage_key) as handle:
        stored = handle.read()
    assert b"Exif" not in stored and b"GPS" not in stored and b"http://ns.adobe.com/xap" not in stored
    assert asset.retention_class == "private_upload" and asset.expires_at is not None
