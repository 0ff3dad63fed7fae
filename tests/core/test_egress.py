"""Outbound HTTP only to registered sub-processors (E2, J7, J12): the registry is the allow-list, the session refuses
anything else before connecting, and no other module in the code base opens outbound connections."""

from __future__ import annotations

import ast
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from intaglio.core.egress import EgressRefused, check_outbound_url, outbound_hosts, outbound_session

SRC = Path(__file__).resolve().parents[2] / "src" / "intaglio"


class Recorder(ThreadingHTTPServer):
    """A local HTTP server that counts the requests that reach it."""

    daemon_threads = True

    def __init__(self):
        self.hits: list[tuple[str, str]] = []  # (Host header, path)
        super().__init__(("127.0.0.1", 0), RecorderHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]


class RecorderHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server API
        self.server.hits.append((self.headers.get("Host", ""), self.path))
        if self.path.startswith("/redirect"):
            target = self.path.split("to=", 1)[1]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    recorder = Recorder()
    thread = threading.Thread(target=recorder.serve_forever, daemon=True)
    thread.start()
    yield recorder
    recorder.shutdown()
    recorder.server_close()


def registry(*hosts: str) -> list[dict]:
    return [
        {
            "name": "Local test provider",
            "purpose": "Answers test requests",
            "data": "Nothing personal",
            "region": "This machine",
            "hosts": list(hosts),
        }
    ]


def test_E2_J12_outbound_hosts_come_from_the_registry_only(settings):
    settings.SUBPROCESSORS = []
    assert outbound_hosts() == ()
    settings.SUBPROCESSORS = [
        *registry("API.Pixelforge.example.", "127.0.0.1"),
        {"name": "No-host service", "purpose": "p", "data": "d", "region": "r"},
        *registry("127.0.0.1"),
    ]
    assert outbound_hosts() == ("127.0.0.1", "api.pixelforge.example")
    settings.SUBPROCESSORS = [{"name": "Bad", "purpose": "p", "data": "d", "region": "r", "hosts": "x.example"}]
    with pytest.raises(ImproperlyConfigured, match="must be a list of host names"):
        outbound_hosts()


def test_J12_a_registered_host_is_reached(settings, server):
    settings.SUBPROCESSORS = registry("127.0.0.1")
    with outbound_session() as session:
        response = session.get(f"http://127.0.0.1:{server.port}/v1/ping", timeout=5)
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert server.hits == [(f"127.0.0.1:{server.port}", "/v1/ping")]


def test_E2_J7_an_unregistered_host_is_refused_before_any_connection(settings, server):
    settings.SUBPROCESSORS = registry("127.0.0.1")
    with outbound_session() as session:
        # The same server under another name: refused, so it never sees the request.
        with pytest.raises(EgressRefused, match="localhost:.* is not a registered sub-processor host"):
            session.get(f"http://localhost:{server.port}/v1/ping", timeout=5)
        # A name that does not resolve: refused before any DNS lookup (else this would be a connection error).
        with pytest.raises(EgressRefused, match="not a registered sub-processor host"):
            session.post("https://buyer-of-data.invalid/upload", json={"email": "x"}, timeout=5)
    assert server.hits == []


def test_J7_with_an_empty_registry_nothing_leaves(settings, server):
    settings.SUBPROCESSORS = []
    with outbound_session() as session, pytest.raises(EgressRefused):
        session.get(f"http://127.0.0.1:{server.port}/", timeout=5)
    assert server.hits == []


def test_E2_a_redirect_to_an_unregistered_host_is_refused(settings, server):
    settings.SUBPROCESSORS = registry("127.0.0.1")
    with outbound_session() as session, pytest.raises(EgressRefused, match="localhost"):
        session.get(f"http://127.0.0.1:{server.port}/redirect?to=http://localhost:{server.port}/leak", timeout=5)
    assert server.hits == [(f"127.0.0.1:{server.port}", f"/redirect?to=http://localhost:{server.port}/leak")]


def test_E2_proxies_cannot_route_around_the_registry(settings, server, monkeypatch):
    settings.SUBPROCESSORS = registry("127.0.0.1")
    # A proxy from the environment is ignored: the request goes straight to the registered host.
    monkeypatch.setenv("HTTP_PROXY", f"http://localhost:{server.port}")
    monkeypatch.setenv("http_proxy", f"http://localhost:{server.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with outbound_session() as session:
        assert session.get(f"http://127.0.0.1:{server.port}/direct", timeout=5).status_code == 200
        with pytest.raises(EgressRefused, match="proxies are not allowed"):
            session.get(
                f"http://127.0.0.1:{server.port}/via-proxy",
                proxies={"http": f"http://localhost:{server.port}"},
                timeout=5,
            )
    assert server.hits == [(f"127.0.0.1:{server.port}", "/direct")]


def test_E2_host_entries_pin_ports_and_wildcards_cover_subdomains_only(settings):
    settings.SUBPROCESSORS = registry("api.pixelforge.example:8443", "*.r2.storage.example")
    check_outbound_url("https://api.pixelforge.example:8443/v1/jobs")
    check_outbound_url("https://bucket-7.r2.storage.example/key?X-Amz-Signature=abc")
    for url in (
        "https://api.pixelforge.example/v1/jobs",  # the default port is not the registered one
        "https://r2.storage.example/",  # the wildcard is for subdomains, not the domain itself
        "https://evil-r2.storage.example.attacker.example/",
        "https://api.pixelforge.example.attacker.example:8443/",
        "ftp://api.pixelforge.example:8443/",
        "file:///etc/passwd",
    ):
        with pytest.raises(EgressRefused):
            check_outbound_url(url)


def test_E2_remote_hosts_are_reached_over_https_only(settings):
    settings.SUBPROCESSORS = registry("api.pixelforge.example", "127.0.0.1")
    with pytest.raises(EgressRefused, match="only over https"):
        check_outbound_url("http://api.pixelforge.example/v1/jobs")
    check_outbound_url("https://api.pixelforge.example/v1/jobs")
    check_outbound_url("http://127.0.0.1:9000/local-provider")  # loopback: nothing crosses a network


# Modules that may open network connections, and only these. Anything else importing a client is a new path out.
NETWORK_MODULES = {
    "requests",
    "httpx",
    "urllib3",
    "aiohttp",
    "http.client",
    "urllib.request",
    "socket",
    "ssl",
    "smtplib",
    "ftplib",
    "telnetlib",
    "xmlrpc.client",
    "websocket",
    "websockets",
    "boto3",
    "botocore",
    "pycurl",
}
# (file relative to src/intaglio, imported module, names imported): each one reviewed.
KNOWN_SAFE = {
    # The egress wrapper itself.
    ("core/egress.py", "requests", ()),
    ("core/egress.py", "requests.adapters", ("HTTPAdapter",)),
    # socket.gethostname() names a worker; no connection.
    ("jobs/workers.py", "socket", ()),
    # Exception classes only, to classify storage errors as transient.
    ("jobs/runner.py", "botocore.exceptions", ("ConnectionError",)),
    ("jobs/runner.py", "botocore.exceptions", ("ReadTimeoutError",)),
}


def network_imports() -> set[tuple[str, str, tuple[str, ...]]]:
    found = set()
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        relative = path.relative_to(SRC).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imports = [(alias.name, ()) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imports = [(node.module, tuple(alias.name for alias in node.names))]
                if node.module in {"urllib", "http", "xmlrpc"}:  # from urllib import request
                    imports = [(f"{node.module}.{alias.name}", ()) for alias in node.names]
            else:
                continue
            for module, names in imports:
                if any(module == root or module.startswith(root + ".") for root in NETWORK_MODULES):
                    found.add((relative, module, names))
    return found


def test_E2_J7_no_outbound_http_except_through_the_egress_wrapper():
    found = network_imports()
    assert found - KNOWN_SAFE == set(), (
        "a module imports a network client outside intaglio.core.egress; use outbound_session() so the "
        f"sub-processor registry applies, or review it and add it to KNOWN_SAFE: {sorted(found - KNOWN_SAFE)}"
    )
    # The scan sees what it should (so an empty result is not a broken scanner).
    assert ("core/egress.py", "requests", ()) in found
    # urllib.parse is not a network client.
    assert not any(module == "urllib.parse" for _, module, _ in found)
