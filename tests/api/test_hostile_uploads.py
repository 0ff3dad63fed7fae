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


def _post_named(client, token, name: str):
    # Built by hand: Django's test client (like UploadedFile) would cut a long name to 255 characters itself.
    from tests.factories import jpeg_bytes

    body = (
        b'--xyz\r\nContent-Disposition: form-data; name=files; filename="' + name.encode() + b'"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + jpeg_bytes(64, 48) + b"\r\n--xyz--\r\n"
    )
    return client.generic(
        "POST",
        "/api/v1/uploads",
        body,
        content_type="multipart/form-data; boundary=xyz",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


@pytest.mark.parametrize("length", [256, 1000])
def test_a_file_name_too_long_is_named_as_such(client, token, length):
    # 1000 characters pass the 1 KiB Django reads of a part's headers; 256 fit there but are one past the limit.
    from intaglio.assets.uploads import FILE_NAME_MAX

    response = _post_named(client, token, "n" * (length - 4) + ".jpg")
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "name_too_long"
    assert error["message"] == f"The file name is too long: at most {FILE_NAME_MAX} characters."
    assert not Asset.objects.exists()


def test_a_file_name_at_the_limit_is_stored(client, token):
    from intaglio.assets.uploads import FILE_NAME_MAX

    response = _post_named(client, token, "n" * (FILE_NAME_MAX - 4) + ".jpg")
    assert response.status_code == 201, response.content
