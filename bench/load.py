"""Throughput and latency of the job poll, GET /api/v1/jobs/{id}, against a live `intaglio serve`, next to /healthz.

    python bench/load.py --db sqlite                       # the embedded default, in a throwaway data dir
    python bench/load.py --db postgres                     # a throwaway PostgreSQL cluster (script/postgres)
    DATABASE_URL=postgresql://… python bench/load.py --db postgres   # an existing database instead
    python bench/load.py --db sqlite --serve-arg=--threads=16       # options passed on to `intaglio serve`

Starts `intaglio serve --workers 0` on a free loopback port through its command line (whatever server it runs),
makes an account, a token and a finished job with an input and two outputs, then loads the poll two ways:

- closed loop: --clients keep-alive connections, each sending its next request as soon as the last is answered;
- open loop: --rate requests a second spread over --open-clients keep-alive connections on a Poisson (or fixed)
  schedule; each latency counts from the request's scheduled time, so a server that falls behind is charged for
  the queue it builds (no coordinated omission).

/healthz is probed --health-rate times a second alongside, each probe on a new connection as a load balancer's, its
latency also from its scheduled time. The load comes from a
separate process (raw HTTP/1.1 on asyncio, no client library) whose own CPU use is printed with the server's and the
load average, so the figures can be judged on a shared machine. The API rate limit is raised for the run so the
counting still happens on every request but never refuses. Prints figures; never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

# bench/queue.py would shadow the standard library's `queue` while this directory leads sys.path, so the
# directory goes last: the standard library wins, and sibling modules still import by name.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]

REQUEST_TIMEOUT = 10.0  # seconds; a request unanswered by then counts as an error and its connection is dropped

# --- The load generator (runs in its own process) ------------------------------------------------------------------


class _Connection:
    """One keep-alive HTTP/1.1 connection; reconnects after an error or a `Connection: close`."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def get(self, raw: bytes) -> int:
        reused = self.writer is not None
        if not reused:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            # A server may close an idle keep-alive connection; like any HTTP client, send again on a new one.
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            self.close()
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lowered = head.lower()
        at = lowered.find(b"\r\ncontent-length:")
        if at >= 0:
            await self.reader.readexactly(int(lowered[at + 17 : lowered.index(b"\r\n", at + 2)]))
        elif b"\r\ntransfer-encoding: chunked" in lowered:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        if b"\r\nconnection: close" in lowered:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class _Tally:
    def __init__(self):
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()

    async def one(self, connection: _Connection, raw: bytes, since: float, count: bool) -> None:
        """Sends one request; its latency counts from `since` (the send time, or the scheduled time)."""
        try:
            status = await asyncio.wait_for(connection.get(raw), REQUEST_TIMEOUT)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            connection.close()
            if count:
                self.errors[type(exc).__name__] += 1
            return
        if count:
            self.latencies.append(time.perf_counter() - since)
            if status != 200:
                self.errors[f"HTTP {status}"] += 1

    def figures(self, seconds: float) -> dict:
        ordered = sorted(self.latencies)

        def quantile(q: float) -> float | None:
            return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None

        return {
            "answered": len(ordered),
            "per_second": len(ordered) / seconds,
            "p50": quantile(0.50),
            "p95": quantile(0.95),
            "p99": quantile(0.99),
            "max": 1000 * ordered[-1] if ordered else None,
            "errors": dict(self.errors),
        }


async def _health_sampler(port: int, raw: bytes, rate: float, start: float, end: float, tally: _Tally) -> None:
    """Probes like a load balancer's: each on a new connection at its scheduled time, none waiting for another."""
    probes, due = [], start
    while due < end:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        probes.append(asyncio.create_task(tally.one(_Connection(port), raw, since=due, count=True)))
        due += 1 / rate
    await asyncio.gather(*probes)


async def _server_cpu(pid: int, start: float, end: float) -> float:
    """Cores the server's processes kept busy between `start` and `end` (perf_counter times)."""
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    before, started = _tree_cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(max(0.0, end - time.perf_counter()))
    return (_tree_cpu_seconds(pid) - before) / (time.perf_counter() - started)


async def _closed_loop(config: dict) -> dict:
    job, health = _Tally(), _Tally()
    warm_until = time.perf_counter() + config["warmup"]
    end = warm_until + config["seconds"]

    async def client():
        connection = _Connection(config["port"])
        while (sent := time.perf_counter()) < end:
            await job.one(connection, config["job_request"], since=sent, count=sent >= warm_until)
        connection.close()

    sampler = _health_sampler(config["port"], config["probe_request"], config["health_rate"], warm_until, end, health)
    cpu = _server_cpu(config["server_pid"], warm_until, end)
    server_cpu, *_ = await asyncio.gather(cpu, sampler, *(client() for _ in range(config["clients"])))
    return {
        "job": job.figures(config["seconds"]),
        "healthz": health.figures(config["seconds"]),
        "server_cpu": server_cpu,
    }


def _schedule(rate: float, clients: int, start: float, end: float, kind: str, seed: int) -> list[list[float]]:
    """Send times: one Poisson (or evenly spaced) stream of `rate` a second, dealt round-robin to the clients."""
    randomness, due, times = random.Random(seed), start, []
    while True:
        due += randomness.expovariate(rate) if kind == "poisson" else 1 / rate
        if due >= end:
            break
        times.append(due)
    return [times[index::clients] for index in range(clients)]


async def _open_loop(config: dict) -> dict:
    job, health, warm = _Tally(), _Tally(), _Tally()
    clients = config["clients"]
    connections = [_Connection(config["port"]) for _ in range(clients)]
    # Every connection is opened (and used once) before the measured schedule starts.
    opened = time.perf_counter()
    await asyncio.gather(*(warm.one(c, config["health_request"], opened, True) for c in connections))
    start = time.perf_counter() + config["warmup"]
    end = start + config["seconds"]
    plan = _schedule(config["rate"], clients, start, end, config["schedule"], config["seed"])

    async def client(connection: _Connection, times: list[float]):
        for due in times:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await job.one(connection, config["job_request"], since=due, count=True)
        connection.close()

    sampler = _health_sampler(config["port"], config["probe_request"], config["health_rate"], start, end, health)
    cpu = _server_cpu(config["server_pid"], start, end)
    server_cpu, *_ = await asyncio.gather(cpu, sampler, *(client(c, t) for c, t in zip(connections, plan, strict=True)))
    return {
        "server_cpu": server_cpu,
        "job": job.figures(config["seconds"]),
        "healthz": health.figures(config["seconds"]),
        "connect": {
            "opened": len(warm.latencies),
            "errors": dict(warm.errors),
            "seconds": time.perf_counter() - opened,
        },
    }


def _generator_main() -> None:
    """Reads one phase's configuration (JSON) on stdin, runs it, prints its figures (JSON) on stdout."""
    config = json.loads(sys.stdin.read())
    for key in ("job_request", "health_request", "probe_request"):
        config[key] = config[key].encode("latin-1")
    before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    run = _closed_loop if config["mode"] == "closed" else _open_loop
    result = asyncio.run(run(config))
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["generator_cpu"] = used / (time.perf_counter() - wall)  # over the whole phase, connecting included
    print(json.dumps(result))


# --- The server and the run -----------------------------------------------------------------------------------------


def _tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and all its descendants, from /proc."""
    from live_server import process_tree_stats

    # utime and stime: fields 14 and 15 of stat, 11 and 12 after the command name
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in process_tree_stats(root).values())
    return ticks / os.sysconf("SC_CLK_TCK")


def _make_job():
    """An account with a token and a finished preview job: one input photo, two outputs. Returns (job id, token)."""
    from django.utils import timezone

    from intaglio.accounts.models import User
    from intaglio.accounts.services import api_token_create
    from intaglio.assets.models import Asset, AssetKind, RetentionClass
    from intaglio.jobs.models import Job, JobState

    owner = User.objects.create_user(email="load@example.com", password="load bench password 1234")
    _, raw = api_token_create(user=owner, name="load bench")
    now = timezone.now()
    job = Job.objects.create(
        owner=owner,
        kind="preview",
        state=JobState.SUCCEEDED,
        progress=100,
        attempts=1,
        params={"max_side": 1600},
        started_at=now,
        finished_at=now,
    )

    def asset(kind: str, role: str, side: int, produced_by=None) -> Asset:
        return Asset.objects.create(
            owner=owner,
            kind=kind,
            role=role,
            mime="image/jpeg",
            sha256="0" * 64,
            bytes=side * side // 4,
            width=side,
            height=side,
            download_name=f"photo-{role or 'upload'}.jpg",
            retention_class=RetentionClass.PRIVATE_UPLOAD,
            produced_by=produced_by,
        )

    job.inputs.add(asset(AssetKind.SOURCE_PHOTO, "", 4000))
    asset(AssetKind.PREVIEW, "web", 1600, produced_by=job)
    asset(AssetKind.PREVIEW, "thumbnail", 320, produced_by=job)
    return job.pk, raw


def _start_server(env: dict, workdir: Path, serve_args: list[str]) -> tuple[subprocess.Popen, int]:
    from preview import free_port, intaglio_command, wait_healthy

    port = free_port()
    command = [*intaglio_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "0"]
    log_path = workdir / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([*command, *serve_args], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    wait_healthy(f"http://127.0.0.1:{port}", server, log_path)
    return server, port


def _request(path: str, token: str | None = None, *, keep_alive: bool = True) -> str:
    connection = "keep-alive" if keep_alive else "close"
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: application/json", f"Connection: {connection}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return "\r\n".join(lines) + "\r\n\r\n"


def _phase(config: dict, server_pid: int) -> dict:
    config, load_before = {**config, "server_pid": server_pid}, os.getloadavg()
    generator = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--generator"], input=json.dumps(config), capture_output=True, text=True
    )
    if generator.returncode != 0:
        raise SystemExit(f"the load generator failed:\n{generator.stderr}")
    result = json.loads(generator.stdout)
    result["load"] = (load_before, os.getloadavg())
    result["seconds"] = config["seconds"]
    return result


def _ms(value: float | None) -> str:
    return "   —" if value is None else f"{value:7.1f}"


def _report(title: str, result: dict, target: str) -> None:
    job, health = result["job"], result["healthz"]
    errors = sum(job["errors"].values())
    print(f"\n{title}")
    print(
        f"  job poll   {job['per_second']:7.1f} req/s   p50 {_ms(job['p50'])}  p95 {_ms(job['p95'])}  "
        f"p99 {_ms(job['p99'])}  max {_ms(job['max'])} ms   {job['answered']} answered, {errors} errors"
        + (f" {job['errors']}" if errors else "")
    )
    health_errors = sum(health["errors"].values())
    print(
        f"  /healthz   {health['answered']:5d} samples    p50 {_ms(health['p50'])}  p95 {_ms(health['p95'])}  "
        f"p99 {_ms(health['p99'])}  max {_ms(health['max'])} ms   {health_errors} errors"
        + (f" {health['errors']}" if health_errors else "")
    )
    if "connect" in result and result["connect"]["errors"]:
        print(f"  connections that never got a first answer: {result['connect']['errors']}")
    (before, after) = result["load"]
    answered = job["per_second"] + health["answered"] / result["seconds"]
    # CPU time per answer is the figure a busy shared machine disturbs least.
    per_answer = 1000 * result["server_cpu"] / answered if answered else float("nan")
    print(
        f"  CPU (cores busy): server {result['server_cpu']:.2f} ({per_answer:.2f} ms per answer), load generator "
        f"{result['generator_cpu']:.2f};  load average {before[0]:.2f} before, {after[0]:.2f} after"
    )
    print(f"  target: {target}")


def main() -> None:
    if sys.argv[1:2] == ["--generator"]:
        _generator_main()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=15, help="measured seconds of each phase (default 15)")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured seconds before each phase (default 2)")
    parser.add_argument("--clients", type=int, default=16, help="closed-loop connections (default 16)")
    parser.add_argument("--rate", type=float, default=100, help="open-loop requests a second (default 100)")
    parser.add_argument("--open-clients", type=int, default=200, help="open-loop connections (default 200)")
    parser.add_argument("--schedule", choices=["poisson", "fixed"], default="poisson")
    parser.add_argument("--health-rate", type=float, default=10, help="/healthz samples a second (default 10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve-arg", action="append", default=[], help="an option for `intaglio serve` (repeat)")
    parser.add_argument("--only", choices=["closed", "open"], help="run one phase only")
    args = parser.parse_args()

    from preview import stop
    from queue_env import QueueEnv

    database_url = os.environ.get("DATABASE_URL") if args.db == "postgres" else None
    # Counted on every request as usual, but high enough that the run measures cost, not refusals.
    with QueueEnv(db=args.db, database_url=database_url, extra_env={"INTAGLIO_API_RATE": "1000000000/m"}) as env:
        job_id, token = _make_job()
        from django.db import connections

        connections.close_all()
        server, port = _start_server(env.env, env.dir, args.serve_arg)
        try:
            common = {
                "port": port,
                "job_request": _request(f"/api/v1/jobs/{job_id}", token),
                "health_request": _request("/healthz"),
                "probe_request": _request("/healthz", keep_alive=False),
                "health_rate": args.health_rate,
                "warmup": args.warmup,
                "seconds": args.seconds,
                "seed": args.seed,
            }
            print(
                f"database: {args.db}; `intaglio serve --workers 0 {' '.join(args.serve_arg)}`; "
                f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start"
            )
            if args.only in (None, "closed"):
                result = _phase({**common, "mode": "closed", "clients": args.clients}, server.pid)
                _report(
                    f"closed loop: {args.clients} keep-alive clients, each sending on its last answer, "
                    f"{args.seconds:.0f} s",
                    result,
                    "≥ 500 req/s on 2 cores",
                )
            if args.only in (None, "open"):
                config = {**common, "mode": "open", "clients": args.open_clients, "rate": args.rate}
                result = _phase({**config, "schedule": args.schedule}, server.pid)
                _report(
                    f"open loop: {args.rate:.0f} req/s ({args.schedule}) over {args.open_clients} keep-alive clients, "
                    f"{args.seconds:.0f} s, latency from the scheduled time",
                    result,
                    "p99 ≤ 50 ms, 0 errors; /healthz p99 ≤ 100 ms",
                )
        finally:
            stop(server)


if __name__ == "__main__":
    main()
