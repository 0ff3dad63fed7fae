"""Bodies that cannot be read (malformed multipart, a declared size over every limit) get 4xx, never a 500."""

import pytest
from django.test import Client


@pytest.fixture
def session_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/dashboard/")
    return client, client.cookies["csrftoken"].value


def test_malformed_multipart_with_a_session_is_a_400(session_client):
    client, csrf = session_client
    body = b"--xyz\r\nContent-Disposition: form-data; name=files; filename=a.jpg\r\n\r\n\xff\xd8"  # never closed
    for path in ("/api/v1/uploads", "/api/v1/tokens"):
        response = client.generic(
            "POST", path, body, content_type="multipart/form-data; boundary=xyz", HTTP_X_CSRFTOKEN=csrf
        )
        assert response.status_code in (400, 422), (path, response.content)
        assert response.json()["error"]["code"]


@pytest.mark.parametrize("path", ["/api/v1/uploads", "/uploads/"])
def test_a_declared_size_over_every_limit_is_refused_unread(session_client, settings, path):
    client, csrf = session_client
    settings.UPLOAD_MAX_BYTES, settings.UPLOAD_MAX_FILES = 1024 * 1024, 2
    body = (
        b"--xyz\r\nContent-Disposition: form-data; name=files; filename=a.jpg\r\n\r\n"
        + b"\0" * 100
        + b"\r\n--xyz--\r\n"
    )
    response = client.generic(
        "POST",
        path,
        body,
        content_type="multipart/form-data; boundary=xyz",
        HTTP_X_CSRFTOKEN=csrf,
        HTTP_ACCEPT="application/json",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413, response.content
    assert response.json()["error"]["code"] == "too_large"
