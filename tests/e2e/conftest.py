"""Browser-test fixtures: a real `intaglio serve` process on SQLite, and Debian's headless Chromium.

These tests never touch pytest-django's test database: the server is a separate process with its own
data directory, reached over HTTP like any browser would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.support import LiveServer, http_get

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "bench" / "out" / "screenshots"
SERVER_START_TIMEOUT = 60.0
MISSING_CHROMIUM = f"{CHROMIUM} is missing: install Debian's chromium package (script/test does)"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=MISSING_CHROMIUM)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _intaglio_command() -> list[str]:
    entry_point = Path(sys.executable).with_name("intaglio")
    if entry_point.exists():
        return [str(entry_point)]
    return [sys.executable, "-m", "intaglio.cli"]


@contextmanager
def running_server(data_dir: Path, **extra_env: str):
    """`intaglio migrate` then `intaglio serve` on a free port with its own SQLite data dir; `extra_env` adds or
    overrides settings (e.g. the remote providers)."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    for key in ("INTAGLIO_SECRET_KEY", "INTAGLIO_CSRF_TRUSTED_ORIGINS", "DJANGO_SETTINGS_MODULE"):
        env.pop(key, None)
    env.update(
        INTAGLIO_DATA_DIR=str(data_dir),
        INTAGLIO_DEBUG="1",  # cookies without Secure, so they work over plain http
        INTAGLIO_BASE_URL=base_url,
        INTAGLIO_ALLOWED_HOSTS="127.0.0.1,localhost",
        INTAGLIO_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        PYTHONUNBUFFERED="1",
        **extra_env,
    )
    command = _intaglio_command()

    migrate = subprocess.run(
        [*command, "migrate", "--no-input"],
        env=env,
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if migrate.returncode != 0:
        pytest.fail(f"`intaglio migrate` failed ({migrate.returncode}):\n{migrate.stdout}\n{migrate.stderr}")

    log_path = data_dir / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=data_dir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        server = LiveServer(url=base_url, log_path=log_path, process=process)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while True:
                if process.poll() is not None:
                    pytest.fail(f"`intaglio serve` exited with {process.returncode}:\n{server.log_text()}")
                try:
                    status, _, _ = http_get(f"{base_url}/healthz", timeout=2)
                except OSError:
                    status = None
                if status == 200:
                    break
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"`intaglio serve` did not answer /healthz within {SERVER_START_TIMEOUT}s:\n{server.log_text()}"
                    )
                time.sleep(0.2)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server_process(tmp_path_factory) -> LiveServer:
    with running_server(tmp_path_factory.mktemp("intaglio-data")) as server:
        yield server


@pytest.fixture(scope="session")
def chromium_browser():
    if not CHROMIUM.exists():
        pytest.skip(MISSING_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
