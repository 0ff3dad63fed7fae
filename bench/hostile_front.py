"""Hostile clients against a live HTTP server on loopback: slow sockets, oversized bodies, /healthz latency.

Used by bench/hostile.py (the acceptance checks) and bench/front_servers.py (the comparison that chose the server).
Everything speaks raw HTTP/1.1 over asyncio streams, so it measures the server and not an HTTP library.
"""

from __future__ import annotations

import asyncio
import select
import socket
import time

UPLOAD_PATH = "/api/v1/uploads"
MB = 1024 * 1024


async def http_status(host: str, port: int, request: bytes, timeout: float) -> tuple[int | None, float]:
    """Sends `request` on a new connection; (status or None on timeout/close, seconds to the status line)."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(request)
                await writer.drain()
                line = await reader.readline()
            finally:
                writer.close()
    except (TimeoutError, OSError):
        return None, time.perf_counter() - started
    elapsed = time.perf_counter() - started
    try:
        return int(line.split()[1]), elapsed
    except (IndexError, ValueError):
        return None, elapsed


def healthz_request(host: str) -> bytes:
    return f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


async def poll_healthz(host: str, port: int, seconds: float, every: float = 0.25, timeout: float = 5.0) -> list:
    """(status, seconds) of /healthz asked every `every` seconds for `seconds`, each on a new connection."""
    results, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        results.append(await http_status(host, port, healthz_request(host), timeout))
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
    return results


TOKEN = "hostile"  # set to a real API token (bench_token) so uploads pass authentication and reach the body


def bench_token() -> str:
    """An API token of a fresh account in this process's database; the probes' uploads then carry it."""
    global TOKEN
    import uuid

    from intaglio.accounts.models import User
    from intaglio.accounts.services import api_token_create

    user = User.objects.create_user(email=f"hostile-{uuid.uuid4().hex[:8]}@example.com", password="hostile bench 1234")
    TOKEN = api_token_create(user=user, name="hostile bench")[1]
    return TOKEN


def upload_headers(host: str, length: int | None, path: str = UPLOAD_PATH) -> bytes:
    size = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=hostile\r\n"
        f"Authorization: Bearer {TOKEN}\r\n{size}\r\n\r\n"
    ).encode()


async def slow_sockets(host: str, port: int, *, count: int, hold: float, watch: float) -> dict:
    """`count` connections, half sending upload headers and withholding the body, half sending their headers one
    line every 2 s; /healthz polled for `hold` seconds meanwhile. Then the sockets are watched up to `watch`
    seconds more to count how many the server drops."""
    opened, closed_at, stop = [], {}, asyncio.Event()

    async def slow(index: int) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except (TimeoutError, OSError):
            closed_at[index] = 0.0
            return
        opened.append(index)
        started = time.monotonic()
        try:
            if index % 2:
                writer.write(upload_headers(host, 10 * MB))
                await writer.drain()
                read = asyncio.ensure_future(reader.read(1))
                await asyncio.wait([read, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
                if read.done():
                    closed_at[index] = time.monotonic() - started
                read.cancel()
            else:
                writer.write(f"POST {UPLOAD_PATH} HTTP/1.1\r\nHost: {host}\r\n".encode())
                while not stop.is_set():
                    await writer.drain()
                    read = asyncio.ensure_future(reader.read(1))
                    done, _ = await asyncio.wait([read], timeout=2)
                    if done:
                        closed_at[index] = time.monotonic() - started
                        return
                    read.cancel()
                    writer.write(b"X-Slow: 1\r\n")
        except OSError:
            closed_at[index] = time.monotonic() - started
        finally:
            writer.close()

    tasks = []
    for index in range(count):
        tasks.append(asyncio.ensure_future(slow(index)))
        if index % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.sleep(1)
    health = await poll_healthz(host, port, hold)
    deadline = time.monotonic() + watch
    while time.monotonic() < deadline and len(closed_at) < count:
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    answered = [seconds for status, seconds in health if status == 200]
    return {
        "opened": len(opened),
        "health_asked": len(health),
        "health_ok": len(answered),
        "health_worst": max((seconds for _, seconds in health), default=float("nan")),
        "dropped": len(closed_at),
        "dropped_after": max(closed_at.values(), default=float("nan")),
    }


async def declared_oversize(host: str, port: int, declared: int, timeout: float = 5.0) -> tuple[int | None, float]:
    """Upload headers declaring `declared` bytes and no body at all: the status and how long it took."""
    return await http_status(host, port, upload_headers(host, declared), timeout)


def chunked_oversize(host: str, port: int, limit: int, timeout: float = 60.0) -> tuple[int | None, int, float]:
    """A chunked upload sent as fast as possible until the server answers; (status, body bytes sent, seconds).

    Bytes sent include what sits in the two sockets' buffers, a few MB on loopback."""
    chunk = b"x" * (64 * 1024)
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent, reply, started = 0, b"", time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        conn.settimeout(2)
        conn.sendall(upload_headers(host, None))
        while time.perf_counter() - started < timeout and sent < limit + 256 * MB:
            readable, writable, _ = select.select([conn], [conn], [], 1)
            if readable:
                break
            if writable:
                try:
                    conn.sendall(frame)
                    sent += len(chunk)
                except TimeoutError:
                    continue
                except OSError:
                    break
        conn.settimeout(5)
        try:
            while b"\r\n" not in reply:
                more = conn.recv(4096)
                if not more:
                    break
                reply += more
        except OSError:
            pass
    try:
        status = int(reply.split()[1])
    except (IndexError, ValueError):
        status = None
    return status, sent, time.perf_counter() - started


async def closed_loop(host: str, port: int, path: str, *, clients: int, seconds: float, token: str) -> dict:
    """`clients` keep-alive connections asking GET `path` back to back for `seconds`; requests/s and statuses."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                writer.write(request)
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)), return_exceptions=True)
    latencies.sort()
    return {
        "per_second": len(latencies) / seconds,
        "statuses": statuses,
        "p50": latencies[len(latencies) // 2] if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99)] if latencies else float("nan"),
    }
