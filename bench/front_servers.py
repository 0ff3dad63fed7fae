"""The comparison that chose the server behind `intaglio serve`: each candidate started on a throwaway data dir,
then the hostile front checks of bench/hostile.py run against it.

    python bench/front_servers.py                       # all candidates
    python bench/front_servers.py --only granian-asgi   # one

Prints figures; never fails. Loopback only; about a minute per candidate. The other candidates are not
dependencies of the product: `.venv/bin/pip install waitress gunicorn "uvicorn[standard]"` first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path = [str(REPO / "src"), str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]

from bench.hostile_front import MB, bench_token, chunked_oversize, closed_loop, declared_oversize, slow_sockets  # noqa: E402
from bench.live_server import LiveServer, setup_data_dir  # noqa: E402

PY = sys.executable
CANDIDATES = {
    # What `intaglio serve` ran before: waitress with its defaults.
    "waitress-default": [
        PY,
        "-c",
        "import sys; from waitress import serve; from intaglio.wsgi import application; "
        "serve(application, host='127.0.0.1', port={port}, threads=8)",
    ],
    # Waitress tuned: room for 2000 connections, idle channels dropped after 20 s, the body limit declared.
    "waitress-tuned": [
        PY,
        "-c",
        "from waitress import serve; from intaglio.wsgi import application; "
        "from intaglio.assets.uploads import request_body_limit as l; "
        "serve(application, host='127.0.0.1', port={port}, threads=8, connection_limit=2000, "
        "channel_timeout=20, max_request_body_size=l())",
    ],
    "gunicorn-gthread": [
        PY,
        "-m",
        "gunicorn",
        "-k",
        "gthread",
        "--threads",
        "8",
        "-w",
        "2",
        "--timeout",
        "20",
        "-b",
        "127.0.0.1:{port}",
        "intaglio.wsgi:application",
    ],
    "granian-wsgi": [
        PY,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--workers",
        "2",
        "--blocking-threads",
        "8",
        "--http",
        "1",
        "--http1-header-read-timeout",
        "10000",
        "--port",
        "{port}",
        "intaglio.wsgi:application",
    ],
    "uvicorn-asgi-front": [
        PY,
        "-m",
        "uvicorn",
        "--workers",
        "2",
        "--port",
        "{port}",
        "--http",
        "httptools",
        "intaglio.asgi:application",
    ],
    # What `intaglio serve` runs now: granian (2 processes, ASGI) with the front of intaglio/asgi.py.
    "granian-asgi-front": [PY, "-m", "intaglio.cli", "serve", "--port", "{port}", "--workers", "0"],
}


def measure(name: str, command: list[str], sockets: int, job_path: str, token: str) -> None:
    from intaglio.assets.uploads import request_body_limit

    limit = request_body_limit()
    with LiveServer(command=command) as server:
        loop = asyncio.run(closed_loop("127.0.0.1", server.port, job_path, clients=32, seconds=8, token=token))
        slow = asyncio.run(slow_sockets("127.0.0.1", server.port, count=sockets, hold=10, watch=25))
        declared = asyncio.run(declared_oversize("127.0.0.1", server.port, 500 * MB))
        chunked = chunked_oversize("127.0.0.1", server.port, limit)
    status, seconds = declared
    c_status, c_sent, c_seconds = chunked
    print(
        f"{name:<20} slow {slow['opened']}/{sockets}: healthz {slow['health_ok']}/{slow['health_asked']} ok, "
        f"worst {slow['health_worst']:.2f} s; dropped {slow['dropped']} (last after {slow['dropped_after']:.0f} s) | "
        f"500 MB declared, headers only: {status} in {seconds:.2f} s | chunked: {c_status} after "
        f"{c_sent / MB:.0f} MB sent (limit {limit / MB:.0f} MB), {c_seconds:.1f} s | GET job, 32 clients: "
        f"{loop['per_second']:.0f}/s p50 {1000 * loop['p50']:.0f} ms p99 {1000 * loop['p99']:.0f} ms "
        f"{loop['statuses']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(CANDIDATES))
    parser.add_argument("--sockets", type=int, default=500)
    args = parser.parse_args()
    setup_data_dir("intaglio-bench-front-", INTAGLIO_API_RATE="100000/m")
    token = bench_token()
    from intaglio.accounts.models import User
    from intaglio.jobs.models import Job

    job = Job.objects.create(owner=User.objects.get(), kind="preview")
    for name, command in CANDIDATES.items():
        if args.only in (None, name):
            measure(name, command, args.sockets, f"/api/v1/jobs/{job.pk}", token)


if __name__ == "__main__":
    main()
