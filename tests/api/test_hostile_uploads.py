"""The hostile-upload corpus through the real HTTP upload operation: a specific refusal or a clean acceptance for
each file, never a 500, and nothing of the GPS-tagged photo's metadata in what is stored."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from intaglio.assets.models import Asset
from intaglio.assets.storage import blob_open
from tests.imaging import corpus

CORPUS = {
    # name the client sends: (bytes, expected status, expected code or None when accepted)
    "truncated.jpg": (corpus.truncated_jpeg, 422, "corrupt_image"),
    "huge.png": (corpus.png_bomb, 422, "decompression_bomb"),
    "page.jpg": (lambda: corpus.HTML, 415, "unsupported_type"),
    "drawing.jpg": (lambda: corpus.SVG, 415, "unsupported_type"),
    "empty.jpg": (lambda: b"", 422, "empty_file"),
    "polyglot.jpg": (corpus.polyglot_jpeg_zip, 201, None),
    "big-exif.jpg": (corpus.big_exif_jpeg, 201, None),
    "gps.jpg": (corpus.gps_photo, 201, None),
    "phone.heic": (corpus.heic_rotated, 201, None),
    "grainy.jpg": (corpus.grainy_jpeg, 201, None),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_hostile_file_gets_a_specific_answer(client, token, name):
    build, status, code = CORPUS[name]
    response = client.post(
        "/api/v1/uploads",
        {"files": [SimpleUploadedFile(name, build(), content_type="image/jpeg")]},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == status, response.content
    if code:
        error = response.json()["error"]
        assert error["code"] == code and len(error["message"]) > 20
        assert not Asset.objects.exists()
    else:
        assert len(response.json()["jobs"]) == 1


def test_the_stored_gps_photo_has_no_gps_and_no_exif(client, token):
    client.post(
        "/api/v1/uploads",
        {"files": [SimpleUploadedFile("gps.jpg", corpus.gps_photo(), content_type="image/jpeg")]},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    (asset,) = Asset.objects.all()
    with blob_open(asset.storage_key) as handle:
        stored = handle.read()
    assert stored[:2] == b"\xff\xd8"
    for marker in (b"Exif\x00\x00", b"GPS", b"http://ns.adobe.com/xap", b"Photoshop 3.0", b"ICC_PROFILE"):
        assert marker not in stored
