"""Structured JSON logs on stdout, each line carrying the request id, with secrets scrubbed.

The access log (logger `intaglio.request`) also goes to one file per UTC day under `$INTAGLIO_DATA_DIR/logs/`, kept
`RETENTION_REQUEST_LOG_DAYS` days (J5, J23). Every line passes `RedactFilter` first: no tokens, signed-link signatures,
Authorization headers, session ids, passwords or e-mail addresses reach a log.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Fields that LogRecord always has; anything else passed via `extra=` is emitted as a field.
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# The fields an access-log line may hold (J5): the privacy notice lists them, and a test holds the log to them.
# No IP address, browser, device or cookie value is among them.
REQUEST_LOG_FIELDS = {
    "ts": "the time, in UTC",
    "level": "the log level",
    "logger": "which log it is",
    "msg": "the word “request”",
    "request_id": "a random id that ties the lines of one request together",
    "method": "the kind of request (GET, POST, …)",
    "path": "the page address, without its query string and with any link codes blanked out",
    "status": "the answer’s status code",
    "duration_ms": "how long the answer took",
    "user_id": "your account number, when you are signed in",
}

# Secrets that must never reach a log line, whatever a caller passes.
_SECRET_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1[redacted]"),
    (re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/=._\-]{6,}"), r"\1[redacted]"),
    (re.compile(r"itg_[A-Za-z0-9_\-]{8,}"), "[redacted-token]"),
    (
        re.compile(
            r"(?i)((?:sessionid|csrftoken|password\d?|token|signature|sig|authorization)[\"']?\s*[=:]\s*[\"']?)"
            r"[^\s\"'&,;]+"
        ),
        r"\1[redacted]",
    ),
    # Query parameters that carry a signed link or a one-time code: /files/signed?t=…, ?code=…
    (re.compile(r"(?i)([?&;](?:t|k|key|code|sig)=)[^&\s\"'#]+"), r"\1[redacted]"),
    # One-time links in paths: e-mail verification, password reset, e-mail change.
    (re.compile(r"(/(?:verify-email|password-reset)/)[^/\s?\"']+/[^/\s?\"']+"), r"\1[redacted]/[redacted]"),
    (re.compile(r"(/account/email/confirm/)[^/\s?\"']+"), r"\1[redacted]"),
    (re.compile(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "[redacted-email]"),
]
_SECRET_KEYS = {
    "password",
    "password1",
    "password2",
    "old_password",
    "new_password1",
    "new_password2",
    "token",
    "authorization",
    "cookie",
    "sessionid",
    "csrftoken",
    "csrfmiddlewaretoken",
    "email",
}
# URL parameters (in urls.py) whose values are secrets or identify someone: blanked in any logged path.
_SECRET_URL_KWARG = re.compile(r"(?i)token|uid|code|sig|secret|key|email")


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_path(path: str) -> str:
    """A request path with its secrets blanked: every URL parameter named like a token, uid, code, signature, key or
    e-mail (so a new one-time-link route is covered without touching this file), then the patterns of `redact`."""
    path = str(path)
    try:
        from django.urls import resolve

        match = resolve(path.split("?", 1)[0])
    except Exception:  # noqa: BLE001 - unknown paths (404s) still go through the patterns below
        match = None
    if match is not None:
        for name, value in match.kwargs.items():
            if _SECRET_URL_KWARG.search(name) and isinstance(value, str) and value:
                path = path.replace(f"/{value}", "/[redacted]")
    return redact(path)


def _clean(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: ("[redacted]" if str(k).lower() in _SECRET_KEYS else _clean(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Each handler filters the same record (the access log has two): redacting it once is enough.
        if getattr(record, "_redacted", False):
            return True
        record.msg = redact(record.getMessage())
        record.args = None
        for key in set(vars(record)) - _RESERVED:
            value = getattr(record, key)
            if key.lower() in _SECRET_KEYS:
                value = "[redacted]"
            elif key in ("path", "url") and isinstance(value, str):
                value = redact_path(value)
            else:
                value = _clean(value)
            setattr(record, key, value)
        record._redacted = True
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        for key in set(vars(record)) - _RESERVED:
            if key not in line and not key.startswith("_"):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


class DailyFileHandler(logging.Handler):
    """Appends each line to `<directory>/<prefix>-YYYY-MM-DD.log` (UTC day of the record) and deletes files older
    than `keep_days` days when it starts a new day.

    Like TimedRotatingFileHandler(when="midnight", backupCount=keep_days), but safe with several processes writing
    the same directory: nothing is renamed, every process appends (O_APPEND) to the day's file, and deleting an
    expired file twice is harmless. Files are private to the server's user (0600 in a 0700 directory)."""

    def __init__(self, directory: str | os.PathLike, keep_days: int, prefix: str = "requests"):
        super().__init__()
        self.directory = Path(directory)
        self.keep_days = max(1, int(keep_days))
        self.prefix = prefix
        self._day: date | None = None
        self._stream = None

    def path_for(self, day: date) -> Path:
        return self.directory / f"{self.prefix}-{day.isoformat()}.log"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            day = datetime.fromtimestamp(record.created, UTC).date()
            if day != self._day or self._stream is None:
                self._open(day)
            self._stream.write(line + "\n")
            self._stream.flush()
        except Exception:  # noqa: BLE001 - a log failure must never break the request
            self.handleError(record)

    def _open(self, day: date) -> None:
        self._close_stream()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path_for(day), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._stream = os.fdopen(fd, "a", encoding="utf-8")
        self._day = day
        self.prune(today=day)

    def prune(self, today: date | None = None) -> list[Path]:
        """Deletes this log's files dated `keep_days` or more days before `today` (UTC); returns them."""
        today = today or datetime.now(UTC).date()
        oldest_kept = today - timedelta(days=self.keep_days - 1)
        removed = []
        pattern = re.compile(rf"^{re.escape(self.prefix)}-(\d{{4}}-\d{{2}}-\d{{2}})\.log$")
        if not self.directory.is_dir():
            return removed
        for path in self.directory.iterdir():
            match = pattern.match(path.name)
            if not match:
                continue
            try:
                day = date.fromisoformat(match.group(1))
            except ValueError:
                continue
            if day < oldest_kept:
                try:
                    path.unlink()
                    removed.append(path)
                except FileNotFoundError:
                    pass  # another process got there first
        return removed

    def _close_stream(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close()
            finally:
                self._stream = None

    def close(self) -> None:
        self.acquire()
        try:
            self._close_stream()
        finally:
            self.release()
        super().close()


def request_logs_prune(today: date | None = None) -> list[Path]:
    """Deletes expired request-log files now (for the scheduler, so an idle server still forgets on time)."""
    removed = []
    for handler in logging.getLogger("intaglio.request").handlers:
        if isinstance(handler, DailyFileHandler):
            removed += handler.prune(today=today)
    return removed
