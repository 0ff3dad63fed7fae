"""Helpers shared by the browser tests (kept out of conftest.py so test modules can import them)."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# A plain HTTP client that ignores any *_proxy variables: the server is on the loopback interface.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, bytes, dict]:
    """GET without cookies or proxies; returns (status, body, headers) for any status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _direct.open(request, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@dataclass
class LiveServer:
    url: str
    log_path: Path
    process: subprocess.Popen

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")
