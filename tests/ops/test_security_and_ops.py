"""Security headers, cookies, health check, structured logs and the deploy check."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from intaglio.ops.logging import JsonFormatter
from tests.content_credentials import make_test_chain
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/"),
        ("get", "/login/"),
        ("get", "/api/v1/me"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/healthz"),
        ("get", "/no-such-page/"),
        ("get", "/static/web/app.css"),
        ("post", "/login/"),
    ],
)
def test_every_response_carries_the_security_headers(client, method, path):
    response = getattr(client, method)(path)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert len(response["X-Request-ID"]) >= 8


def test_hsts_on_https_outside_debug(client):
    response = client.get("/", secure=True)
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    assert "includeSubDomains" in response["Strict-Transport-Security"]


def test_pages_have_no_inline_script(client, logged_in):
    for c, path in [
        (client, "/"),
        (client, "/login/"),
        (client, "/signup/"),
        (logged_in, "/dashboard/"),
        (logged_in, "/account/"),
    ]:
        html = c.get(path).content.decode()
        for chunk in html.split("<script")[1:]:
            assert chunk.split(">")[0].strip().startswith("src="), f"inline script on {path}"
        assert " style=" not in html and "onclick" not in html


def test_session_and_csrf_cookies_are_httponly_lax_and_secure(client, user, settings):
    # What an https BASE_URL sets (privacy/test_clauses.py::test_J30_tls_protections_follow_an_https_base_url).
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client.get("/login/")
    response = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    for name in ("sessionid", "csrftoken"):
        cookie = client.cookies[name]
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name
        assert cookie["secure"] is True, name
    assert set(client.cookies) == {"sessionid", "csrftoken"}


def test_request_id_from_a_proxy_is_kept_when_well_formed(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abcdef12-3456").headers["X-Request-ID"] == "abcdef12-3456"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n<script>").headers["X-Request-ID"] != "bad id"


def test_healthz_ok_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


def test_healthz_503_when_the_database_is_unreachable(tmp_path):
    # A real process whose database is a closed port: no mock.
    code = (
        "import django; django.setup();"
        "from django.test.utils import setup_test_environment; setup_test_environment();"
        "from django.test import Client; r = Client().get('/healthz'); print(r.status_code, r.content.decode())"
    )
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
        "INTAGLIO_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "intaglio.settings",
        "INTAGLIO_LOG_LEVEL": "CRITICAL",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1].startswith("503"), out.stdout + out.stderr
    assert '"database": "unreachable"' in out.stdout


@pytest.fixture
def log_lines():
    """What the configured stdout handler writes, one parsed JSON object per line."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(old)


def test_logs_are_json_with_request_id_and_hold_no_secrets(client, user, token, log_lines):
    client.post("/login/", {"username": user.email, "password": "wrong-password-123"})
    client.post("/login/", {"username": user.email, "password": PASSWORD})
    session_id = client.cookies["sessionid"].value
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(
        "/api/v1/tokens", {"name": "n"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    new_secret = response.json()["token"]
    logging.getLogger("intaglio.test").info("careless Bearer %s password=%s", token, PASSWORD)

    lines = log_lines()
    assert any(line.get("path") == "/api/v1/me" and line.get("status") == 200 for line in lines)
    access = [line for line in lines if line["logger"] == "intaglio.request"]
    assert access and all(len(line["request_id"]) == 32 for line in access)
    dump = json.dumps(lines)
    for secret in (PASSWORD, "wrong-password-123", token, new_secret, session_id, user.email):
        assert secret not in dump


@pytest.mark.parametrize("debug", ["0"])
def test_deploy_check_is_clean_under_production_settings(tmp_path, debug):
    chain = make_test_chain(tmp_path)
    env = {
        **os.environ,
        "INTAGLIO_DEBUG": debug,
        "INTAGLIO_SECRET_KEY": "k" * 20 + "Qw3rTy-uIoP_aSdF.gHjKl+zXcVbNm1234567890/ABCDEFG",
        "INTAGLIO_BASE_URL": "https://studio.example.com",
        "INTAGLIO_ALLOWED_HOSTS": "studio.example.com",
        "INTAGLIO_DATA_DIR": str(tmp_path),
        "INTAGLIO_C2PA_CERT": str(chain.cert),
        "INTAGLIO_C2PA_KEY": str(chain.key),
    }
    out = subprocess.run(
        [sys.executable, "-m", "intaglio.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues" in out.stdout
    assert "WARNINGS" not in out.stdout + out.stderr
