"""docs/nginx.conf, exactly as documented in docs/reverse-proxy.md, started in front of `intaglio serve`: /healthz
passes through, a body over the limit gets 413 from nginx, a body within it reaches the application.
Skipped when nginx is not installed (script/test installs it when run as root)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import running_server
from tests.ops.test_front import _read_response

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
CONFIG = Path(__file__).resolve().parents[2] / "docs" / "nginx.conf"

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (script/test installs it as root)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    data = tmp_path_factory.mktemp("intaglio-proxied")
    with running_server(data, INTAGLIO_WORKER_PROCESSES="1", INTAGLIO_TRUSTED_PROXY_HOPS="1") as server:
        temp = tmp_path_factory.mktemp("nginx")
        port = _free_port()
        config = temp / "nginx.conf"
        config.write_text(
            CONFIG.read_text()
            .replace("__LISTEN__", f"127.0.0.1:{port}")
            .replace("__UPSTREAM__", server.url.removeprefix("http://"))
            .replace("__TEMP__", str(temp))
        )
        # nginx -p gives it a prefix of its own: no file of the machine's nginx is read or written.
        # As root, its workers would run as nobody and could not write the temporary directory made for them.
        directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        command = [NGINX, "-p", str(temp), "-c", str(config), "-g", directives]
        check = subprocess.run([*command[:-2], "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        process = subprocess.Popen(command, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert process.poll() is None and time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


def _ask(port: int, request: bytes, timeout: float = 5) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        return _read_response(conn)


def test_healthz_passes_through_the_proxy(proxy):
    status, _, body = _ask(proxy, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status == 200 and b'"ok"' in body


def test_the_proxy_refuses_a_body_over_the_limit_from_its_headers(proxy):
    request = (
        b"POST /api/v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        b"Content-Length: 524288000\r\n\r\n"
    )
    status, _, _ = _ask(proxy, request)
    assert status == 413


@pytest.mark.parametrize("size", [5, 3 * 1024 * 1024])  # in memory, and through nginx's temporary file
def test_a_body_within_the_limit_reaches_the_application(proxy, size):
    # Not authenticated: the application's own 401 proves the request went through.
    request = (
        b"POST /api/v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        + f"Content-Length: {size}\r\nConnection: close\r\n\r\n".encode()
        + b"x" * size
    )
    status, headers, _ = _ask(proxy, request)
    assert status == 401
    assert headers["content-type"].startswith("application/json")
