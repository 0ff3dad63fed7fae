"""`script/server` as a person starts it: the product's own error pages (no Django debug page unless --debug is
passed), and sign-in cookies that work on plain http."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a loopback URL of ours
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@pytest.fixture
def server(tmp_path, request):
    """script/server with nothing of ours in the environment but a data directory, on a free port."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTAGLIO_") and key != "DATABASE_URL"}
    env.update(INTAGLIO_DATA_DIR=str(tmp_path / "data"), INTAGLIO_WORKER_PROCESSES="1")
    args = [str(ROOT / "script" / "server"), "--port", str(port), *getattr(request, "param", [])]
    process = subprocess.Popen(  # noqa: S603 - our own script
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, "script/server exited early"
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("script/server did not answer /healthz within 120 s")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_script_server_serves_the_products_404_page_and_http_cookies(server):
    status, _headers, page = _get(f"{server}/no-such-page/")
    assert status == 404
    assert "Page not found" in page and "There is nothing at this address." in page
    assert "URLconf" not in page and "DEBUG = True" not in page  # Django's debug 404 page names both

    status, headers, _page = _get(f"{server}/login/")
    assert status == 200
    cookie = next(value for value in headers.get_all("Set-Cookie") if value.startswith("csrftoken="))
    assert "secure" not in cookie.lower()  # on plain http a Secure cookie would never come back: no sign-in


@pytest.mark.parametrize("server", [["--debug"]], indirect=True)
def test_script_server_debug_shows_djangos_debug_page(server):
    status, _headers, page = _get(f"{server}/no-such-page/")
    assert status == 404 and "URLconf" in page
