"""Rate-limit counters: cost per hit, exactness under threads, and GET /api/v1/jobs/{id} throughput.

    python bench/rate_limits.py                      # SQLite (the embedded default) in a throwaway data dir
    DATABASE_URL=postgresql://… python bench/rate_limits.py
    python bench/rate_limits.py --e2e-only           # only the request loop (runs on older code too)

Prints figures; never fails on time. The request loop uses Django's test client in threads (no HTTP server), so
it measures the application's own cost per request and the database writes it makes.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# bench/queue.py would shadow the standard library's queue module: drop the script's own directory.
sys.path = [str(REPO / "src"), str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]


def _setup() -> None:
    from bench.live_server import setup_data_dir

    # The loop measures cost, not refusals.
    setup_data_dir("intaglio-bench-rate-", INTAGLIO_API_RATE="100000000/m")


def _per_hit_costs(hits: int) -> None:
    from django.core.cache import caches

    from intaglio.core.ratelimit import rate_hit, rate_store

    started = time.perf_counter()
    for i in range(hits):
        rate_hit(f"bench:{i % 50}", limit=10**9, window=60)
    store = type(rate_store()).__name__
    print(f"{store:<28} {1e6 * (time.perf_counter() - started) / hits:8.1f} µs per hit")
    # What Ninja's throttle did per request before: read the history from the database cache and write it back.
    from django.conf import settings

    settings.CACHES["bench-db"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "intaglio_cache",
    }
    cache = caches["bench-db"]
    started = time.perf_counter()
    for i in range(hits):
        history = cache.get(f"bench:{i % 50}", [])
        cache.set(f"bench:{i % 50}", [*history[-600:], time.time()], 60)
    print(f"{'DatabaseCache get+set (old)':<28} {1e6 * (time.perf_counter() - started) / hits:8.1f} µs per hit")


def _exactness(threads: int, each: int, limit: int) -> None:
    from django.db import connections

    from intaglio.core.ratelimit import rate_hit

    key = f"bench:exact:{time.time()}"
    allowed, start, lock = [0], threading.Barrier(threads), threading.Lock()

    def run():
        start.wait()
        for _ in range(each):
            if rate_hit(key, limit=limit, window=3600).allowed:
                with lock:
                    allowed[0] += 1
        connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(f"{threads} threads × {each} hits on one key, limit {limit}: {allowed[0]} allowed (target: exactly {limit})")


def _request_loop(threads: int, seconds: float) -> None:
    from django.db import connection, connections
    from django.test import Client

    from intaglio.accounts.models import User
    from intaglio.accounts.services import api_token_create
    from intaglio.jobs.models import Job

    user = User.objects.create_user(email=f"bench{time.time()}@example.com", password="bench password 1234")
    _, raw = api_token_create(user=user, name="bench")
    job = Job.objects.create(owner=user, kind="preview")
    path, headers = f"/api/v1/jobs/{job.pk}", {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_HOST": "127.0.0.1"}
    assert Client().get(path, **headers).status_code == 200
    connection.close()

    counts, writes, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds

    def count_writes(execute, sql, params, many, context):
        if sql.lstrip()[:6].upper() in {"INSERT", "UPDATE", "DELETE"}:
            with lock:
                writes[0] += 1
        return execute(sql, params, many, context)

    def run():
        client, done = Client(), 0
        with connection.execute_wrapper(count_writes):
            while time.perf_counter() < deadline:
                assert client.get(path, **headers).status_code == 200
                done += 1
        with lock:
            counts.append(done)
        connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    total = sum(counts)
    print(
        f"GET /api/v1/jobs/{{id}}, {threads} threads, {seconds:.0f} s: {total / seconds:7.1f} requests/s, "
        f"{writes[0] / max(total, 1):.2f} database writes per request"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--e2e-only", action="store_true")
    args = parser.parse_args()
    _setup()
    from django.db import connection

    print(f"database: {connection.vendor}")
    if not args.e2e_only:
        _per_hit_costs(2000)
        _exactness(threads=50, each=40, limit=600)
    _request_loop(1, args.seconds)
    _request_loop(args.threads, args.seconds)


if __name__ == "__main__":
    main()
