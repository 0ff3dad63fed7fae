"""Local stand-ins for outside services: real HTTP servers on 127.0.0.1 that implement each provider's documented API
and refuse anything else with that service's error shape, so an adapter that drifts from the contract fails here.

- `tests.fakes.openrouter.FakeOpenRouter`: OpenRouter chat completions (analysis).
- `tests.fakes.wavespeed.FakeWaveSpeed`: WaveSpeed v3 predictions, outputs and signed webhooks (generation).
- `ImageHost` (below): serves reference images at loopback links, standing in for our own signed links.
- `Receiver` (below): records whatever is posted to it (a webhook endpoint).

Every fake is a context manager that starts on a free port and stops on exit:

    with FakeWaveSpeed() as fake:
        settings.WAVESPEED_BASE_URL = fake.url
        settings.SUBPROCESSORS = [fake.subprocessor()]   # egress refuses unregistered hosts
        ...
        fake.requests        # every request received: Recorded(method, path, query, headers, body, json)

Fault switches: `fake.inject(name, times=None)` turns a fault on for the next `times` requests it applies to (None:
until `fake.clear()`); the names each fake knows are in its `FAULTS` and its module docstring. A misspelt name raises
ValueError. All state is guarded by a lock; request handlers run on their own threads.
"""

from __future__ import annotations

import io
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it. Header names are lower-case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any = None


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to hold the reply back (a timeout fault); cut short when the fake closes

    @classmethod
    def json(cls, status: int, payload: Any, **kwargs) -> Reply:
        return cls(status, json.dumps(payload).encode(), "application/json", **kwargs)


# Fields and strings no request to an outside service may carry (J8/J9): both fakes refuse them.
PERSONAL_KEYS = frozenset({"user", "user_id", "email", "e_mail", "ip", "ip_address", "remote_addr", "session_id"})
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def body_problems(body: dict, allowed: Iterable[str]) -> list[str]:
    """A request body's top-level keys outside `allowed` (personal-looking ones named as such), then personal data
    anywhere below."""
    problems = []
    for key in body:
        if key in PERSONAL_KEYS:
            problems.append(f"personal data field {key!r} is not allowed")
        elif key not in allowed:
            problems.append(f"unknown top-level key {key!r} (allowed: {', '.join(sorted(allowed))})")
    return problems + personal_data(body)


def personal_data(value: Any, where: str = "") -> list[str]:
    """Personal-looking keys below the top level and e-mail-like strings anywhere in a JSON body (data URLs are
    image bytes, not text)."""
    problems = []
    if isinstance(value, dict):
        for key, item in value.items():
            if where and str(key).lower() in PERSONAL_KEYS:
                problems.append(f"personal data field {where}.{key} is not allowed")
            problems += personal_data(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems += personal_data(item, f"{where}[{index}]")
    elif isinstance(value, str) and not value.startswith("data:") and EMAIL.search(value):
        problems.append(f"{where} holds an e-mail address")
    return problems


def tiny_png(colour: tuple[int, int, int] = (212, 175, 55), size: tuple[int, int] = (16, 16)) -> bytes:
    """A small, real PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # close() must not wait for a handler that is holding back a "timeout" reply

    def handle_error(self, request, client_address):
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that hung up (timed out, or stopped reading a capped download): expected here
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _dispatch(self):
        fake: FakeHTTPServer = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        recorded = Recorded(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            json=parsed,
        )
        fake._record(recorded)
        try:
            reply = fake.handle(recorded)
        except Exception as exc:  # a bug in the fake: say so rather than hang the client
            reply = Reply.json(500, {"fake_error": repr(exc)})
        if reply.delay and fake._closing.wait(reply.delay):
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout fault)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch  # noqa: N815 - the http.server API

    def log_message(self, *args):
        pass


class FakeHTTPServer:
    """Base of the fakes: a threaded server on 127.0.0.1 (free port), request recording and fault switches."""

    FAULTS: frozenset[str] = frozenset()
    name = "Fake service"

    def __init__(self, faults: dict[str, int | None] | None = None):
        self._lock = threading.RLock()
        self._requests: list[Recorded] = []
        self._faults: dict[str, int | None] = {}
        self._fetched: list[tuple[str, int]] = []
        self._closing = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._started = False
        for fault, times in (faults or {}).items():
            self.inject(fault, times)

    # --- life cycle ---

    def start(self):
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def close(self) -> None:
        self._closing.set()
        if self._started:
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.close()

    # --- fetching the caller's links (as the real service would) ---

    @property
    def fetched(self) -> list[tuple[str, int]]:
        """(url, HTTP status) of every link this fake fetched; 0 when the connection failed."""
        with self._lock:
            return list(self._fetched)

    def fetch_image(self, url: str) -> str | None:
        """GETs a loopback image link; None when it answered 200 with an image, else what went wrong."""
        if urlsplit(url).hostname != "127.0.0.1":
            return "cannot be fetched by the fake (only loopback links are)"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
                status, mime = response.status, response.headers.get("Content-Type", "")
                response.read()
        except urllib.error.HTTPError as exc:
            status, mime = exc.code, ""
        except OSError:
            status, mime = 0, ""
        with self._lock:
            self._fetched.append((url, status))
        if status != 200 or not mime.startswith("image/"):
            return f"could not be fetched (HTTP {status or 'connection failed'})"
        return None

    # --- addresses ---

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def host(self) -> str:
        """`127.0.0.1:<port>`, as a SUBPROCESSORS host entry."""
        return f"127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The base URL the adapter is configured with."""
        return self.origin

    def subprocessor(self) -> dict:
        """A settings.SUBPROCESSORS entry registering this fake (egress refuses unregistered hosts)."""
        return {
            "name": self.name,
            "purpose": "Stands in for the real service in tests",
            "data": "Test data only",
            "region": "This machine",
            "hosts": [self.host],
        }

    # --- recording ---

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self._requests.append(recorded)

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    # --- faults ---

    def inject(self, fault: str, times: int | None = None) -> None:
        """Turns `fault` on for the next `times` requests it applies to (None: until clear())."""
        if fault not in self.FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {sorted(self.FAULTS)}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for always)")
        with self._lock:
            self._faults[fault] = times

    def clear(self, fault: str | None = None) -> None:
        with self._lock:
            if fault is None:
                self._faults.clear()
            else:
                self._faults.pop(fault, None)

    def active(self, fault: str) -> bool:
        with self._lock:
            return fault in self._faults

    def _take(self, fault: str) -> bool:
        """True when `fault` is on, using up one of its times."""
        with self._lock:
            if fault not in self._faults:
                return False
            remaining = self._faults[fault]
            if remaining is not None:
                if remaining <= 1:
                    del self._faults[fault]
                else:
                    self._faults[fault] = remaining - 1
            return True

    def handle(self, request: Recorded) -> Reply:  # pragma: no cover - subclasses answer
        raise NotImplementedError


class ImageHost(FakeHTTPServer):
    """Serves images at loopback links (`add()` returns the link), standing in for our short-lived signed links.
    `expire(link)` makes a link answer 403, as an expired signature would."""

    name = "Reference image host"

    def __init__(self):
        super().__init__()
        self._files: dict[str, tuple[bytes, str]] = {}
        self._expired: set[str] = set()
        self._counter = 0

    def add(self, data: bytes | None = None, mime: str = "image/png") -> str:
        with self._lock:
            self._counter += 1
            path = f"/signed/ref-{self._counter}.{mime.rsplit('/', 1)[-1]}?expires=600&signature=test"
            self._files[path.split("?", 1)[0]] = (data if data is not None else tiny_png(), mime)
        return f"{self.origin}{path}"

    def expire(self, link: str) -> None:
        with self._lock:
            self._expired.add(urlsplit(link).path)

    def handle(self, request: Recorded) -> Reply:
        if request.method != "GET":
            return Reply(405, b"method not allowed", "text/plain")
        with self._lock:
            found = self._files.get(request.path)
            expired = request.path in self._expired
        if found is None:
            return Reply(404, b"not found", "text/plain")
        if expired:
            return Reply(403, b"link expired", "text/plain")
        data, mime = found
        return Reply(200, data, mime)


class Receiver(FakeHTTPServer):
    """Accepts anything (HTTP `status`, default 200) and records it: a webhook endpoint for contract tests.
    `receiver.url` is its root; deliveries to any path are recorded in `receiver.requests`."""

    name = "Webhook receiver"

    def __init__(self, status: int = 200):
        super().__init__()
        self.status = status

    def handle(self, request: Recorded) -> Reply:
        return Reply.json(self.status, {"received": True})
