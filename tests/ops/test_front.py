"""The front of `intaglio serve` under hostile clients (issue 16, failures 1 and 2), against the real server process:
slow sockets must not starve /healthz, oversized bodies are refused before they are read, slow bodies time out.
Plus the front's own translation of a request for the WSGI application, without a server."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from tests.e2e.conftest import running_server

LIMIT_MB = 1  # one file of 1 MB, two files a request: the multipart limit is 3 MB (2 MB + 1 MB of room)
UPLOAD = "/api/v1/uploads"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(
        tmp_path_factory.mktemp("intaglio-front"),
        INTAGLIO_WORKER_PROCESSES="1",
        INTAGLIO_UPLOAD_MAX_MB=str(LIMIT_MB),
        INTAGLIO_UPLOAD_MAX_FILES="2",
        INTAGLIO_BODY_TIMEOUT_SECONDS="2",
    ) as live:
        yield live


def _address(server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def _headers(path: str, *, length: int | None, kind: str = "multipart/form-data; boundary=x") -> bytes:
    size = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {kind}\r\nAuthorization: Bearer nobody\r\n"
        f"{size}\r\n\r\n"
    ).encode()


def _read_response(conn: socket.socket) -> tuple[int, dict, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            break
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        more = conn.recv(65536)
        if not more:
            break
        body += more
    return int(lines[0].split()[1]), headers, body


def _healthz_seconds(host: str, port: int) -> float:
    started = time.perf_counter()
    with socket.create_connection((host, port), timeout=5) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status, _, body = _read_response(conn)
    assert status == 200 and json.loads(body)["status"] == "ok"
    return time.perf_counter() - started


def test_healthz_answers_within_a_second_while_150_sockets_withhold_their_bodies(server):
    host, port = _address(server)
    held = []
    try:
        for _ in range(150):
            conn = socket.create_connection((host, port), timeout=5)
            conn.sendall(_headers(UPLOAD, length=2 * 1024 * 1024))  # under the limit: the server waits for it
            held.append(conn)
        time.sleep(0.5)
        worst = max(_healthz_seconds(host, port) for _ in range(5))
    finally:
        for conn in held:
            conn.close()
    assert worst <= 1.0


def test_a_declared_oversized_body_is_refused_from_its_headers_alone(server):
    host, port = _address(server)
    with socket.create_connection((host, port), timeout=3) as conn:
        conn.sendall(_headers(UPLOAD, length=500 * 1024 * 1024))  # and not one byte of the body
        status, headers, body = _read_response(conn)
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "too_large"


def test_outside_the_api_the_refusal_is_a_plain_page(server):
    host, port = _address(server)
    with socket.create_connection((host, port), timeout=3) as conn:
        conn.sendall(_headers("/", length=500 * 1024 * 1024))
        status, headers, body = _read_response(conn)
    assert status == 413
    assert headers["content-type"].startswith("text/html")
    assert b"too large" in body.lower()


def test_a_chunked_body_is_refused_while_it_streams_past_the_limit(server):
    host, port = _address(server)
    limit = (2 * LIMIT_MB + 1) * 1024 * 1024
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection((host, port), timeout=3) as conn:
        conn.sendall(_headers(UPLOAD, length=None))
        try:
            # Up to 40 times the limit: a server that waits for the end of the body never answers in time.
            while sent < 40 * limit:
                conn.sendall(frame)
                sent += len(chunk)
        except OSError:
            pass  # the server answered and closed: the reply is waiting in the socket
        status, _, body = _read_response(conn)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "too_large"
    assert sent < 40 * limit


def test_a_client_that_stops_sending_its_body_is_dropped(server):
    host, port = _address(server)
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(_headers(UPLOAD, length=1000) + b"--x\r\n")
        started = time.perf_counter()
        status, _, _ = _read_response(conn)
    assert status == 408
    assert time.perf_counter() - started < 8


def test_the_front_hands_the_application_the_body_and_headers_it_read():
    from intaglio.asgi import Front

    seen = {}

    def wsgi(environ, start_response):
        seen.update(environ, body=environ["wsgi.input"].read())
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [b"made"]

    front = Front(wsgi, threads=1, body_timeout=5)
    parts = [b'{"name": ', b'"chunked"}']
    incoming = [{"type": "http.request", "body": part, "more_body": i < len(parts) - 1} for i, part in enumerate(parts)]
    sent = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/thing",
        "query_string": b"a=1",
        "headers": [
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
            (b"x-forwarded-for", b"203.0.113.9"),
            (b"x_forwarded_for", b"198.51.100.1"),  # would pose as the header above: dropped
        ],
        "client": ("192.0.2.1", 5000),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
        "http_version": "1.1",
    }
    asyncio.run(front(scope, receive, send))
    assert seen["body"] == b'{"name": "chunked"}'
    assert seen["CONTENT_LENGTH"] == str(len(seen["body"]))
    assert seen["CONTENT_TYPE"] == "application/json"
    assert seen["QUERY_STRING"] == "a=1" and seen["PATH_INFO"] == "/api/v1/thing"
    assert seen["HTTP_X_FORWARDED_FOR"] == "203.0.113.9"
    assert seen["REMOTE_ADDR"] == "192.0.2.1"
    assert sent[0]["status"] == 201 and sent[1]["body"] == b"made"


def test_a_large_response_is_sent_in_parts_and_in_full():
    from intaglio.asgi import Front

    payload = bytes(range(256)) * 4096  # 1 MB, handed over in 4 KB pieces as FileResponse does

    def wsgi(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (payload[i : i + 4096] for i in range(0, len(payload), 4096))

    sent = []

    async def receive():
        return {"type": "http.disconnect"}

    def send(message):  # as granian's: returns an awaitable that is not a coroutine
        sent.append(message)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    scope = {"type": "http", "method": "GET", "path": "/files/1/", "headers": [], "query_string": b""}
    asyncio.run(Front(wsgi, threads=1)(scope, receive, send))
    bodies = [message for message in sent if message["type"] == "http.response.body"]
    assert sent[0]["status"] == 200
    assert b"".join(message["body"] for message in bodies) == payload
    assert 1 < len(bodies) <= 5  # in parts, not one message per 4 KB piece
    assert not bodies[-1].get("more_body", False) and all(message["more_body"] for message in bodies[:-1])
