"""The live preview's round trip through the real HTTP stack, on loopback and through a home-like link. Prints
figures; never fails on time.

    .venv/bin/python bench/preview.py            (about a minute; --material slate, --requests N to vary)

A throwaway platform (bench/queue_env.py: SQLite data directory, migrations, one funded account) gets an API token,
then `intaglio serve` runs as its own process (granian, one job worker) on a free port. A 12 MP camera-like JPEG
(a skimage photo upscaled to 4000 × 3000 with noise σ=6, quality 92, as bench/engrave.py makes it) is uploaded with
POST /api/v1/uploads; once its preview job succeeded, POST /api/v1/engrave/previews is timed at 100 mm wide on the
10 W diode, each request with a different contrast (0.8 + 0.02·i) so none is answered from the preview cache. The
first request (cold: first decode of the photo, first use of the engine in the server process) is reported apart
from the next ones; then the last settings once more, which the cache answers.

Each request asks for what the studio asks for on a setting change: the picture its canvas shows (the simulated
burn at the canvas's width; the laser dots on the Dots tab), never the photo, which has its own cacheable URL and is
fetched once per framing. Bytes per change are the response's bytes (JSON with the base64 picture) plus the
request's.

Times are wall-clock round trips measured by this client (urllib, one connection per request), including JSON and
base64. `render_ms` is the server's own figure for the render alone. The same 30 changes (other contrasts, so none
is cached) run again through a throttling proxy this bench starts in-process: 20 Mbit/s each way and 40 ms round
trip time (20 ms each way, added to every chunk after it is serialised at the link's rate), like a home connection.
The proxy's own TCP connection to the client is local, so a new connection's handshake costs no extra round trip,
as with the browser's kept-alive connection. The server and its data directory are removed on exit.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's `queue` while this directory leads sys.path, so the
# directory goes last: the standard library wins, and sibling modules still import by name.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import base64  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from engrave_common import engine_revision, table  # noqa: E402
from PIL import Image  # noqa: E402
from queue_env import QueueEnv  # noqa: E402

from engrave import make_jpeg  # noqa: E402

TARGET_P50_MS = 300.0
TARGET_RENDER_P50_MS = 120.0
TARGET_RENDER_P95_MS = 250.0
WEB_PROCESSES = os.cpu_count() or 1  # what `intaglio serve` starts by default: one per core
IDLE_SECONDS = 3.0
TARGET_CHANGE_KB = 300.0
TARGET_THROTTLED_P50_MS = 350.0
LINK_MBIT_S, LINK_RTT_MS = 20.0, 40.0
MACHINE, WIDTH_MM = "diode-10w", 100.0
SERVER_START_TIMEOUT = 60.0


# ---------------------------------------------------------------------------------------------------------- HTTP


class Client:
    """JSON over urllib with a Bearer token; every call returns (status, parsed body, response bytes, seconds)."""

    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url, token

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"):
        request = urllib.request.Request(f"{self.base_url}/api/v1{path}", data=body, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if body is not None:
            request.add_header("Content-Type", content_type)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - our own loopback server
                status, data = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, data = error.code, error.read()
        elapsed = time.perf_counter() - started
        if not data or not data.startswith((b"{", b"[")):  # a picture: its size is what matters
            return status, None, len(data), elapsed
        return status, json.loads(data), len(data), elapsed

    def post_json(self, path: str, payload: dict):
        return self.call("POST", path, json.dumps(payload).encode())

    def upload(self, name: str, data: bytes, mime: str):
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                f"Content-Type: {mime}\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.call("POST", "/uploads", body, f"multipart/form-data; boundary={boundary}")


class ThrottledLink:
    """A TCP proxy on its own event-loop thread standing for a home connection: each direction carries
    `mbit_s` and delivers every chunk `rtt_ms / 2` after its last byte left (serialisation, then propagation)."""

    def __init__(self, target_port: int, mbit_s: float, rtt_ms: float):
        self.target_port, self.bytes_per_s, self.one_way_s = target_port, mbit_s * 1e6 / 8, rtt_ms / 2000
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            server.close()

    async def _serve(self, client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(
            self._direction(client_reader, server_writer), self._direction(server_reader, client_writer)
        )

    async def _direction(self, reader, writer) -> None:
        queue: asyncio.Queue = asyncio.Queue()
        link_free = 0.0  # when the link has sent everything queued so far

        async def deliver():
            while True:
                at, chunk = await queue.get()
                delay = at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if chunk is None:
                    writer.close()
                    return
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.ensure_future(deliver())
        try:
            while chunk := await reader.read(16384):
                link_free = max(link_free, time.perf_counter()) + len(chunk) / self.bytes_per_s
                queue.put_nowait((link_free + self.one_way_s, chunk))
        except ConnectionError:
            pass
        queue.put_nowait((link_free + self.one_way_s, None))
        await sender


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def intaglio_command() -> list[str]:
    entry_point = Path(sys.executable).with_name("intaglio")
    return [str(entry_point)] if entry_point.exists() else [sys.executable, "-m", "intaglio.cli"]


def wait_healthy(base_url: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if server.poll() is not None:
            raise SystemExit(f"`intaglio serve` exited with {server.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"`intaglio serve` did not answer /healthz:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.2)


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()  # serve stops its worker supervisor on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


# ------------------------------------------------------------------------------------------------------- figures


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 30 values is the 29th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


def check_preview(body: dict) -> None:
    """The answer is a real preview: the artwork PNG has the pixel size the response states."""
    if body.get("artwork") is None:
        if body.get("burn") is None:
            raise SystemExit("the preview carried no picture")
        return
    png = base64.b64decode(body["artwork"].split(",", 1)[1])
    size = Image.open(io.BytesIO(png)).size
    expected = (body["width_px"], body["height_px"])
    if body["full_resolution"] and size != expected:
        raise SystemExit(f"preview PNG is {size}, the response says {expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--material", default="maple", choices=["maple", "slate"], help="maple: 0.08 mm lines")
    parser.add_argument("--requests", type=int, default=30, help="timed warm requests after the cold one")
    parser.add_argument("--photo", default="chelsea", help="the skimage.data photo to upscale")
    parser.add_argument(
        "--warmup",
        type=int,
        default=4,
        help="untimed rounds after the cold request, each of one change per web process sent at once",
    )
    args = parser.parse_args()
    # A plain `kill` unwinds like Ctrl+C does, so the server is stopped and the data directory removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if not 1 <= args.requests <= 110:  # contrast 0.8 + 0.02·i stays within the engine's 0.2–3
        raise SystemExit("--requests must be 1–110")
    if not 0 <= args.warmup * WEB_PROCESSES <= 50:  # contrast 0.8 − 0.01·k stays within the engine's 0.2–3
        raise SystemExit(f"--warmup must be 0–{50 // WEB_PROCESSES}")

    with QueueEnv(db="sqlite", extra_env={"INTAGLIO_API_RATE": "100000/m", "INTAGLIO_LOG_LEVEL": "WARNING"}) as env:
        from django.db import connections

        from intaglio.accounts.services import api_token_create

        owner = env.make_owner()
        _, token = api_token_create(user=owner, name="bench")
        connections.close_all()  # the server process owns the SQLite database from here on

        photo_path = env.dir / "camera.jpg"
        make_jpeg(photo_path, (4000, 3000), args.photo, seed=7)
        photo = photo_path.read_bytes()

        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log_path = env.dir / "server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(  # noqa: S603
                [*intaglio_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                env={**env.env, "INTAGLIO_BASE_URL": base_url, "PYTHONUNBUFFERED": "1"},
                cwd=env.dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            try:
                wait_healthy(base_url, server, log_path)
                with ThrottledLink(port, LINK_MBIT_S, LINK_RTT_MS) as link:
                    throttled = Client(f"http://127.0.0.1:{link.port}", token)
                    run(Client(base_url, token), throttled, photo, args, log_path, server.pid)
            finally:
                stop(server)


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and all its descendants so far, from /proc."""
    from live_server import process_tree_stats

    # utime and stime: fields 14 and 15 of stat, 11 and 12 after the command name
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in process_tree_stats(root).values())
    return ticks / os.sysconf("SC_CLK_TCK")


def run(client: Client, throttled: Client, photo: bytes, args, log_path: Path, server_pid: int) -> None:
    status, body, _, upload_s = client.upload("camera.jpg", photo, "image/jpeg")
    if status != 201:
        raise SystemExit(f"upload refused ({status}): {body}")
    job_id, source = body["jobs"][0]["id"], body["jobs"][0]["inputs"][0]["id"]
    width, height = body["jobs"][0]["inputs"][0]["width"], body["jobs"][0]["inputs"][0]["height"]
    deadline = time.monotonic() + 300
    while True:
        _, job, _, _ = client.call("GET", f"/jobs/{job_id}")
        if job["state"] == "succeeded":
            break
        if job["state"] in ("failed", "cancelled") or time.monotonic() > deadline:
            raise SystemExit(f"the upload's preview job did not succeed: {job}\n{log_path.read_text()[-4000:]}")
        time.sleep(0.2)

    def preview(contrast: float, pictures=("burn",), via: Client = client):
        settings = {
            "material": args.material,
            "machine": MACHINE,
            "width_mm": WIDTH_MM,
            "adjustments": {"contrast": round(contrast, 4)},
        }
        payload = json.dumps({"source": source, "settings": settings, "pictures": list(pictures)}).encode()
        status, body, size, seconds = via.call("POST", "/engrave/previews", payload)
        if status != 200:
            raise SystemExit(f"preview refused ({status}): {body}")
        return body, size + len(payload), seconds

    cold, cold_size, cold_s = preview(0.8, ("artwork", "burn"))
    check_preview(cold)
    photo_status, _, photo_bytes, _ = client.call("GET", cold["original_url"].removeprefix("/api/v1"))
    if photo_status != 200:
        raise SystemExit(f"the framed photo was refused ({photo_status})")
    # `serve` runs one web process per core, each with its own caches, and a process takes whichever request it
    # accepts first: rounds of one change per process, sent at once, so that a busy process leaves one to another.
    with ThreadPoolExecutor(WEB_PROCESSES) as pool:
        for round_ in range(args.warmup):
            contrasts = [0.8 - 0.01 * (round_ * WEB_PROCESSES + k + 1) for k in range(WEB_PROCESSES)]
            list(pool.map(preview, contrasts))
    # What the server spends idle (job worker and scheduler polling), to tell it from what the changes cost.
    idle_start, idle_cpu = time.perf_counter(), tree_cpu_seconds(server_pid)
    time.sleep(IDLE_SECONDS)
    idle_rate = (tree_cpu_seconds(server_pid) - idle_cpu) / (time.perf_counter() - idle_start)
    cpu_before, timed_start = tree_cpu_seconds(server_pid), time.perf_counter()
    warm = [preview(0.8 + 0.02 * i) for i in range(1, args.requests + 1)]
    # The server's own CPU per change, which other load on a shared machine does not inflate as wall time is.
    cpu_used = tree_cpu_seconds(server_pid) - cpu_before
    busy_per_change_ms = (cpu_used - idle_rate * (time.perf_counter() - timed_start)) / len(warm) * 1000
    load = os.getloadavg()
    for body, _, _ in warm:
        check_preview(body)
    last_contrast = 0.8 + 0.02 * args.requests
    # Each web process keeps its own cache and the last change was rendered by one of them: the repeat is sent
    # until a process answers from its cache (a new connection lands on either), at most twice per process.
    repeat_of = warm[-1][0]
    tries, cached = 0, False
    while not cached and tries < 2 * WEB_PROCESSES:
        tries += 1
        hit, hit_size, hit_s = preview(last_contrast)
        cached = hit["cached"] and hit["render_ms"] == repeat_of["render_ms"]  # the very same render comes back
    # The Dots tab: recent settings again (still in the preview cache), asking for the dots instead of the burn.
    recent = range(max(1, args.requests - 19), args.requests + 1)
    dots = [preview(0.8 + 0.02 * i, ("artwork",)) for i in recent]
    # Through the home-like link: new contrasts, so each is rendered.
    slow = [preview(0.81 + 0.02 * i, ("burn",), throttled) for i in range(1, args.requests + 1)]

    wall = [seconds * 1000 for _, _, seconds in warm]
    render = [body["render_ms"] for body, _, _ in warm]
    sizes = [size for _, size, _ in warm]
    slow_wall = [seconds * 1000 for _, _, seconds in slow]
    slow_render = [body["render_ms"] for body, _, _ in slow]
    p50 = statistics.median(wall)
    print(f"# Live preview round trip (POST /api/v1/engrave/previews) — {engine_revision()}")
    print(
        f"photo: {width} × {height} JPEG ({len(photo) / 1e6:.1f} MB, uploaded in {upload_s:.2f} s); "
        f"{args.material} on {MACHINE}, {WIDTH_MM:g} mm wide → {cold['width_px']} × {cold['height_px']} dots at "
        f"{cold['dpi']:.1f} DPI (full resolution: {cold['full_resolution']}); {os.cpu_count()} cores; "
        "`intaglio serve` (granian) + 1 worker, SQLite.\n"
    )

    def kib(values):
        return f"{statistics.median(values) / 1024:.0f}"

    render_p50 = statistics.median(render + slow_render)
    change_kib = statistics.median(sizes) / 1024
    slow_p50 = statistics.median(slow_wall)
    rows = [
        ["cold: burn + dots", f"{cold_s * 1000:.0f}", f"{cold['render_ms']:.0f}", f"{cold_size / 1024:.0f}", ""],
        ["framed photo (once per framing)", "", "", f"{photo_bytes / 1024:.0f}", "cached by the browser"],
        [
            f"change, burn tab: p50 of {len(wall)}",
            f"{p50:.0f}",
            f"{statistics.median(render):.0f}",
            kib(sizes),
            f"≤ {TARGET_CHANGE_KB:.0f} KB: {'met' if change_kib <= TARGET_CHANGE_KB else 'NOT met'}",
        ],
        [
            f"change, burn tab: p95 of {len(wall)}",
            f"{percentile(wall, 95):.0f}",
            f"{percentile(render, 95):.0f}",
            "",
            "",
        ],
        [
            f"change, dots tab: p50 of {len(dots)}",
            f"{statistics.median(s * 1000 for _, _, s in dots):.0f}",
            # Each web process has its own cache: a change rendered by the other one is rendered again.
            f"{sum(body['cached'] for body, _, _ in dots)}/{len(dots)} cached",
            kib([size for _, size, _ in dots]),
            "the 1-bit PNG",
        ],
        [
            f"20 Mbit/s, 40 ms RTT: p50 of {len(slow)}",
            f"{slow_p50:.0f}",
            f"{statistics.median(slow_render):.0f}",
            kib([size for _, size, _ in slow]),
            f"≤ {TARGET_THROTTLED_P50_MS:.0f} ms: {'met' if slow_p50 <= TARGET_THROTTLED_P50_MS else 'NOT met'}",
        ],
        [
            f"20 Mbit/s, 40 ms RTT: p95 of {len(slow)}",
            f"{percentile(slow_wall, 95):.0f}",
            f"{percentile(slow_render, 95):.0f}",
            "",
            "",
        ],
        [
            f"repeat of the last settings (try {tries})",
            f"{hit_s * 1000:.0f}",
            "(cached)" if cached else f"{hit['render_ms']:.0f} (not cached!)",
            f"{hit_size / 1024:.0f}",
            f"answered in {hit['answer_ms']:.0f} ms" if cached else "",
        ],
    ]
    print(table(["request", "round trip ms", "server render_ms", "KiB per change", "note"], rows))
    render_p95 = percentile(render + slow_render, 95)
    print(
        f"\nrender p50 over all {len(render) + len(slow_render)} rendered changes: {render_p50:.0f} ms "
        f"(target ≤ {TARGET_RENDER_P50_MS:.0f} ms: {'met' if render_p50 <= TARGET_RENDER_P50_MS else 'NOT met'}); "
        f"p95 {render_p95:.0f} ms (target ≤ {TARGET_RENDER_P95_MS:.0f} ms: "
        f"{'met' if render_p95 <= TARGET_RENDER_P95_MS else 'NOT met'}); load average "
        f"{' / '.join(f'{v:.1f}' for v in load)} (1/5/15 min) after the loopback changes, on "
        f"{os.cpu_count()} cores; every web process warmed by {args.warmup} round(s) first"
    )
    print(
        f"server CPU per loopback change (every process of `intaglio serve`, user + system, less its idle "
        f"{idle_rate * 1000:.0f} ms/s): {busy_per_change_ms:.0f} ms"
    )
    print(
        f"overhead beyond the render on loopback (HTTP, routing, auth, JSON and base64): median "
        f"{statistics.median(w - r for w, r in zip(wall, render, strict=True)):.0f} ms; through the link: "
        f"{statistics.median(w - r for w, r in zip(slow_wall, slow_render, strict=True)):.0f} ms"
    )


if __name__ == "__main__":
    main()
