"""Structured JSON logs on stdout, each line carrying the request id, with secrets scrubbed."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Fields that LogRecord always has; anything else passed via `extra=` is emitted as a field.
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# Secrets that must never reach a log line, whatever a caller passes.
_SECRET_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1[redacted]"),
    (re.compile(r"itg_[A-Za-z0-9_\-]{8,}"), "[redacted-token]"),
    (
        re.compile(r"(?i)((?:sessionid|csrftoken|password\d?|token|signature|sig)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;]+"),
        r"\1[redacted]",
    ),
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "[redacted-email]"),
]
_SECRET_KEYS = {
    "password",
    "password1",
    "password2",
    "token",
    "authorization",
    "cookie",
    "sessionid",
    "email",
}


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


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
        record.msg = redact(record.getMessage())
        record.args = None
        for key in set(vars(record)) - _RESERVED:
            value = getattr(record, key)
            setattr(record, key, "[redacted]" if key.lower() in _SECRET_KEYS else _clean(value))
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
