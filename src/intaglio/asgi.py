"""The application `intaglio serve` runs: Django behind a small front that keeps the server usable under hostile
load (see ops/management/commands/serve.py for why this server and the measured figures).

The front works on the event loop, before any request thread is taken:

- `/healthz` is answered here, its database check run on a thread of its own, so it never waits behind the
  request threads (a slow upload or a burst of image work cannot make the load balancer think we are down);
- a body larger than the limit is refused from its Content-Length at once (413), before any of it is read;
  a body without one (chunked) is counted while it streams in and refused as soon as it passes the limit;
- a client that stops sending its body for `body_timeout` seconds gets 408 and is dropped (the server itself
  times out clients that are slow to send their headers);
- at most `threads` requests per process run Django at once; reading their bodies does not count against that.

The limit is `assets.uploads.request_body_limit()` for multipart forms (the uploads) and Django's
DATA_UPLOAD_MAX_MEMORY_SIZE for every other body, the same limits the application checks itself.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intaglio.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from intaglio.assets.uploads import request_body_limit, too_large_message  # noqa: E402
from intaglio.core.errors import error_body  # noqa: E402
from intaglio.ops.views import database_ok, health_body  # noqa: E402

_PART = 256 * 1024  # a response under this size is sent in one piece from the event loop; larger ones in such parts
HEALTH_TIMEOUT = 2.0  # seconds; a database slower than this is reported unavailable (503)

_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
    "<body style='font-family:sans-serif;max-width:40em;margin:4em auto'><h1>{title}</h1><p>{message}</p></body></html>"
)


class Front:
    """ASGI application serving a WSGI application; see the module docstring.

    Parameters
    ----------
    wsgi : WSGI application
        What a request is handed to once its body is in and within the limit.
    threads : int
        Requests the application runs at once in this process (its thread pool).
    body_timeout : float
        Seconds a client may pause while sending its body.
    """

    def __init__(self, wsgi, *, threads: int = 8, body_timeout: float = 20.0):
        self.wsgi = wsgi
        self.body_timeout = body_timeout
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")
        self._health_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="healthz")

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await _lifespan(receive, send)
        if scope["type"] != "http":
            return  # no websockets: the server closes the connection
        if scope["path"] == "/healthz" and scope["method"] in ("GET", "HEAD"):
            return await self._health(scope, send)
        headers = dict(scope["headers"])
        limit = body_limit(headers.get(b"content-type", b""))
        try:
            declared = int(headers[b"content-length"]) if b"content-length" in headers else None
        except ValueError:
            declared = None
        if declared is not None and limit is not None and declared > limit:
            return await _refuse(scope, send, 413, _too_large(headers, declared, limit))
        if declared == 0 or (declared is None and b"transfer-encoding" not in headers):
            body = io.BytesIO()  # nothing to read: no wait on the client
        else:
            body = await self._read_body(scope, receive, send, limit)
            if body is None:
                return
        environ = wsgi_environ(scope, body)
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(self._threads, self._run, environ, send, loop)
        finally:
            body.close()
        if answer is not None:  # the whole response was small: sent from here, without a hop per part
            status, response_headers, content = answer
            await send({"type": "http.response.start", "status": status, "headers": response_headers})
            await send({"type": "http.response.body", "body": content})

    async def _read_body(self, scope, receive, send, limit: int | None):
        """The request body in a spooled file, or None when the client was answered (408, 413) or left."""
        body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
        received = 0
        while True:
            try:
                async with asyncio.timeout(self.body_timeout):
                    message = await receive()
            except TimeoutError:
                body.close()
                await _refuse(scope, send, 408, "The request body arrived too slowly. Please retry.")
                return None
            if message["type"] != "http.request":
                body.close()
                return None  # the client left
            chunk = message.get("body", b"")
            received += len(chunk)
            if limit is not None and received > limit:
                body.close()
                await _refuse(scope, send, 413, _too_large(dict(scope["headers"]), received, limit, streaming=True))
                return None
            body.write(chunk)
            if not message.get("more_body", False):
                body.seek(0)
                return body

    def _run(self, environ, send, loop):
        """Runs the WSGI application on a request thread. Returns (status, headers, body) for a small response;
        a larger one is sent from here in parts of at least _PART bytes, each waited for (the client's pace)."""
        started = []

        def start_response(status, response_headers, exc_info=None):
            headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response_headers]
            started[:] = [int(status.split(" ", 1)[0]), headers]

        async def sending(message):
            await send(message)  # the server's send may return a plain awaitable, not a coroutine

        def push(message):
            asyncio.run_coroutine_threadsafe(sending(message), loop).result()

        result = self.wsgi(environ, start_response)
        try:
            parts, size, streaming = [], 0, False
            for part in result:
                parts.append(part)
                size += len(part)
                if size >= _PART:
                    if not streaming:
                        push({"type": "http.response.start", "status": started[0], "headers": started[1]})
                        streaming = True
                    push({"type": "http.response.body", "body": b"".join(parts), "more_body": True})
                    parts, size = [], 0
            if not streaming:
                return started[0], started[1], b"".join(parts)
            push({"type": "http.response.body", "body": b"".join(parts)})
            return None
        finally:
            if hasattr(result, "close"):
                result.close()

    async def _health(self, scope, send):
        loop = asyncio.get_running_loop()
        try:
            ok = await asyncio.wait_for(loop.run_in_executor(self._health_thread, database_ok), HEALTH_TIMEOUT)
        except TimeoutError:
            ok = False
        body = b"" if scope["method"] == "HEAD" else health_body(ok)
        await _answer(send, 200 if ok else 503, body, b"application/json")


def wsgi_environ(scope, body) -> dict:
    """The WSGI environ of an ASGI HTTP request whose body has been read into `body`."""
    body.seek(0, os.SEEK_END)
    length = body.tell()
    body.seek(0)
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin-1"),
        "PATH_INFO": scope["path"].encode().decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(length),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").upper(), raw_value.decode("latin-1")
        if "_" in name:
            continue  # X_Forwarded_For would pass for X-Forwarded-For once both are HTTP_X_FORWARDED_FOR
        if name == "CONTENT-LENGTH":
            continue  # the length of the body actually read, above
        key = "CONTENT_TYPE" if name == "CONTENT-TYPE" else "HTTP_" + name.replace("-", "_")
        environ[key] = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ','}{value}" if key in environ else value
    return environ


def body_limit(content_type: bytes) -> int | None:
    """The most bytes a request body of this type may have (None: no limit)."""
    if content_type.lower().startswith(b"multipart/form-data"):
        return request_body_limit()
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _too_large(headers: dict, size: int, limit: int, *, streaming: bool = False) -> str:
    if headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data"):
        return too_large_message(size, streaming=streaming)
    return f"The request body is larger than {limit / (1024 * 1024):.1f} MB, the most accepted here."


async def _refuse(scope, send, status: int, message: str) -> None:
    """The product's error: its JSON error body under /api/, a plain page elsewhere. The connection is closed,
    since the rest of the body is never read."""
    code = {408: "request_timeout", 413: "too_large"}[status]
    if scope["path"].startswith("/api/"):
        request = SimpleNamespace(id=uuid.uuid4().hex)
        body, kind = json.dumps(error_body(request, code=code, message=message)).encode(), b"application/json"
    else:
        title = {408: "Request timed out", 413: "Too large"}[status]
        body, kind = _PAGE.format(title=title, message=message).encode(), b"text/html; charset=utf-8"
    await _answer(send, status, body, kind, close=True)


async def _answer(send, status: int, body: bytes, kind: bytes, *, close: bool = False) -> None:
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive, send) -> None:
    # Django has no start-up or shut-down work of its own to run here.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


application = Front(
    get_wsgi_application(),
    threads=int(os.environ.get("INTAGLIO_WEB_THREADS", "8")),
    body_timeout=float(os.environ.get("INTAGLIO_BODY_TIMEOUT_SECONDS", "20")),
)
