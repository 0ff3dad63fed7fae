"""Request logs (J5, J23): the access log also goes to one file per UTC day under DATA_DIR/logs, kept
RETENTION_REQUEST_LOG_DAYS days, and no log line carries tokens, signed-link signatures, Authorization headers,
session ids, passwords or e-mail addresses. Real requests through the Django test client, real log output."""

from __future__ import annotations

import io
import json
import logging
import stat
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings as live_settings
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from intaglio.accounts.tokens import email_verification_tokens, make_email_change_token
from intaglio.assets.services import asset_ingest_upload, asset_signed_url
from intaglio.ops.logging import REQUEST_LOG_FIELDS, DailyFileHandler, JsonFormatter, redact, redact_path
from tests.factories import PASSWORD, jpeg_bytes, make_token, make_user

pytestmark = pytest.mark.django_db


def request_file_handler() -> DailyFileHandler:
    handlers = [h for h in logging.getLogger("intaglio.request").handlers if isinstance(h, DailyFileHandler)]
    assert len(handlers) == 1, "the access log has no daily file handler (settings.LOGGING)"
    return handlers[0]


@pytest.fixture
def logs(tmp_path):
    """Everything the configured handlers write: stdout lines, and the request-log file (moved to tmp_path)."""
    stdout = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    stream = io.StringIO()
    old_stream = stdout.setStream(stream)
    handler = request_file_handler()
    old_directory = handler.directory
    handler.close()
    handler.directory = tmp_path / "logs"
    handler._day = None

    class Captured:
        directory = handler.directory

        @staticmethod
        def stdout_lines() -> list[dict]:
            return [json.loads(line) for line in stream.getvalue().splitlines()]

        @staticmethod
        def file_text() -> str:
            return "".join(path.read_text() for path in sorted(handler.directory.glob("requests-*.log")))

        @staticmethod
        def file_lines() -> list[dict]:
            return [json.loads(line) for line in Captured.file_text().splitlines()]

    yield Captured
    handler.close()
    handler.directory = old_directory
    handler._day = None
    stdout.setStream(old_stream)


def record(created: datetime, message: str = "request") -> logging.LogRecord:
    rec = logging.makeLogRecord({"name": "intaglio.request", "msg": message, "levelno": logging.INFO})
    rec.created = created.timestamp()
    return rec


# ------------------------------------------------------------------------------------- the file (J23)


def test_J23_the_access_log_goes_to_a_daily_file_kept_for_the_retention_setting(client, logs):
    handler = request_file_handler()
    assert handler.keep_days == live_settings.RETENTION_REQUEST_LOG_DAYS == 30
    assert live_settings.LOGGING["handlers"]["request_file"]["directory"] == live_settings.DATA_DIR / "logs"

    client.get("/privacy/")
    client.get("/cookies/")

    today = datetime.now(UTC).date()
    path = logs.directory / f"requests-{today.isoformat()}.log"
    assert [(line["path"], line["status"]) for line in logs.file_lines()] == [("/privacy/", 200), ("/cookies/", 200)]
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(logs.directory.stat().st_mode) == 0o700
    # The same lines still reach stdout.
    assert [line["path"] for line in logs.stdout_lines() if line["logger"] == "intaglio.request"] == [
        "/privacy/",
        "/cookies/",
    ]


def test_J23_each_line_goes_to_the_file_of_its_utc_day(tmp_path):
    handler = DailyFileHandler(tmp_path, keep_days=30)
    handler.setFormatter(JsonFormatter())
    handler.handle(record(datetime(2025, 3, 9, 23, 59, 59, tzinfo=UTC), "late"))
    handler.handle(record(datetime(2025, 3, 10, 0, 0, 1, tzinfo=UTC), "early"))
    handler.close()
    assert json.loads((tmp_path / "requests-2025-03-09.log").read_text())["msg"] == "late"
    assert json.loads((tmp_path / "requests-2025-03-10.log").read_text())["msg"] == "early"


def test_J23_files_older_than_the_retention_are_deleted_when_a_day_starts(tmp_path):
    today = date(2025, 6, 30)
    for age in range(0, 45):
        (tmp_path / f"requests-{(today - timedelta(days=age)).isoformat()}.log").write_text("{}\n")
    (tmp_path / "unrelated.log").write_text("kept\n")
    handler = DailyFileHandler(tmp_path, keep_days=30)
    handler.setFormatter(JsonFormatter())
    handler.handle(record(datetime(2025, 6, 30, 8, 0, tzinfo=UTC)))
    handler.close()

    kept = sorted(p.name for p in tmp_path.glob("requests-*.log"))
    assert len(kept) == 30
    assert kept[0] == f"requests-{(today - timedelta(days=29)).isoformat()}.log"
    assert kept[-1] == "requests-2025-06-30.log"
    assert (tmp_path / "unrelated.log").exists()
    # Pruning again (another process, the scheduler) is harmless.
    assert handler.prune(today=today) == []


def test_J23_several_processes_append_to_the_same_days_file(tmp_path):
    first, second = DailyFileHandler(tmp_path, keep_days=30), DailyFileHandler(tmp_path, keep_days=30)
    when = datetime(2025, 6, 30, 8, 0, tzinfo=UTC)
    for index in range(6):
        (first if index % 2 else second).handle(record(when + timedelta(seconds=index), f"line {index}"))
    first.close()
    second.close()
    lines = (tmp_path / "requests-2025-06-30.log").read_text().splitlines()
    assert sorted(lines) == sorted(f"line {index}" for index in range(6))


# -------------------------------------------------------------------------------- no secrets (J23, J5)


def test_J23_no_log_line_carries_tokens_signatures_sessions_passwords_or_addresses(client, logs, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    user = make_user(email="ada.lovelace@example.com")
    newcomer = make_user(email="new.maker@example.com", verified=False)
    api_token = make_token(user)

    # Log in (a wrong password first), then use the session.
    client.post("/login/", {"username": user.email, "password": "not-the-password-9"})
    client.post("/login/", {"username": user.email, "password": PASSWORD})
    session_id = client.cookies["sessionid"].value
    csrf_token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else None
    client.get("/dashboard/")

    # One-time links carried in the path.
    verify_uid = urlsafe_base64_encode(force_bytes(newcomer.pk))
    verify_token = email_verification_tokens.make_token(newcomer)
    client.get(f"/verify-email/{verify_uid}/{verify_token}/")
    reset_uid = urlsafe_base64_encode(force_bytes(user.pk))
    reset_token = default_token_generator.make_token(user)
    client.get(f"/password-reset/{reset_uid}/{reset_token}/")
    change_token = make_email_change_token(user=user, new_email="ada.new@example.org")
    client.get(f"/account/email/confirm/{change_token}/")

    # A signed download link: the signature rides in the query string.
    asset = asset_ingest_upload(
        owner=user, upload=SimpleUploadedFile("portrait.jpg", jpeg_bytes(), content_type="image/jpeg")
    )
    signed = asset_signed_url(asset=asset)
    signature = signed.split("t=", 1)[1].split("&", 1)[0]
    assert client.get(signed.removeprefix(settings.BASE_URL)).status_code == 200

    # API calls with an Authorization header, Bearer and Basic.
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {api_token}")
    basic = "YWRhOmNvcnJlY3QgaG9yc2U="
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Basic {basic}")

    # Careless callers: a message with a full signed URL, headers and form data passed as extras.
    careless = logging.getLogger("intaglio.provider")
    careless.warning("fetched %s for %s", signed, user.email)
    careless.warning(
        "upstream said no",
        extra={
            "headers": {"Authorization": f"Bearer {api_token}", "Cookie": f"sessionid={session_id}"},
            "form": {"email": user.email, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token or "x" * 32},
            "url": f"/password-reset/{reset_uid}/{reset_token}/",
            "note": f"Authorization: Basic {basic}; contact ada.lovelace%40example.com",
        },
    )

    stdout = json.dumps(logs.stdout_lines())
    on_disk = logs.file_text()
    assert '"/dashboard/"' in on_disk and '"/api/v1/me"' in on_disk  # the log is there; it is just clean
    assert "/password-reset/[redacted]/[redacted]/" in on_disk
    assert "/account/email/confirm/[redacted]/" in on_disk
    secrets = {
        "password": PASSWORD,
        "wrong password": "not-the-password-9",
        "session id": session_id,
        "api token": api_token,
        "basic credentials": basic,
        "verification token": verify_token,
        "reset token": reset_token,
        "e-mail change token": change_token,
        "signed-link signature": signature,
        "e-mail address": user.email,
        "new e-mail address": "ada.new@example.org",
        "newcomer's address": newcomer.email,
        "url-encoded address": "ada.lovelace%40example.com",
    }
    if csrf_token:
        secrets["csrf token"] = csrf_token
    for what, secret in secrets.items():
        assert secret not in stdout, f"the {what} reached stdout"
        assert secret not in on_disk, f"the {what} reached the request log file"


def test_J5_access_log_lines_hold_only_the_declared_fields(client, logs, user):
    client.force_login(user)
    client.get(
        "/dashboard/?q=ada.lovelace@example.com",
        HTTP_USER_AGENT="Mozilla/5.0 (Fingerprintable; Secret-Device 7)",
        REMOTE_ADDR="203.0.113.77",
        HTTP_X_FORWARDED_FOR="198.51.100.23",
        HTTP_REFERER="https://elsewhere.example/ref",
    )
    lines = logs.file_lines()
    assert lines, "no access-log line was written"
    for line in lines:
        assert set(line) <= set(REQUEST_LOG_FIELDS), f"undeclared fields: {set(line) - set(REQUEST_LOG_FIELDS)}"
        assert line["path"] == "/dashboard/" and line["user_id"] == user.pk
    dump = logs.file_text()
    for technical in ("203.0.113.77", "198.51.100.23", "Secret-Device", "Mozilla", "elsewhere.example", "q="):
        assert technical not in dump


def test_J23_redaction_covers_paths_queries_headers_and_addresses():
    assert redact_path("/password-reset/MTI/cf1a2b-0123456789abcdef/") == "/password-reset/[redacted]/[redacted]/"
    assert redact_path("/verify-email/MTI/cf1a2b-0123456789abcdef/") == "/verify-email/[redacted]/[redacted]/"
    assert redact_path("/account/email/confirm/eyJ1Ijo5fQ:1tQx:abc/") == "/account/email/confirm/[redacted]/"
    assert redact_path("/password-reset/sent/") == "/password-reset/sent/"
    assert redact_path("/jobs/12/") == "/jobs/12/"
    assert redact("/files/signed?t=eyJhIjoxfQ:1tQ:sig&download=1") == "/files/signed?t=[redacted]&download=1"
    assert "YWRhOnB3" not in redact("Authorization: Basic YWRhOnB3")
    assert "YWRhOnB3" not in redact('{"authorization": "YWRhOnB3"}')
    assert "dXNlcjpwYXNz" not in redact("basic dXNlcjpwYXNz")
    assert redact("csrfmiddlewaretoken=abc123&x=1") == "csrfmiddlewaretoken=[redacted]&x=1"
    assert redact("to maker%40example.com and maker@example.com") == "to [redacted-email] and [redacted-email]"
