"""Queue throughput: no-op jobs per second through the real workers, on SQLite and PostgreSQL, 1 and 2 workers.

    python bench/queue.py [--jobs 300] [--db sqlite postgres] [--workers 1 2]

Prints figures only; nothing here fails on time. Each run gets a fresh database. "create" is job_create
(credit check, reservation, enqueue in one transaction) from one client; "drain" is from worker start until every
job has succeeded, so it includes the workers' start-up (about a second).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's `queue` while this directory leads sys.path, so the
# directory goes last: the standard library wins, and sibling modules still import by name.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]

import argparse  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402


def one_run(db: str, workers: int, jobs: int) -> None:
    from queue_env import QueueEnv

    with QueueEnv(db=db) as env:
        from intaglio.jobs.models import Job, JobState
        from intaglio.jobs.services import job_create

        owner = env.make_owner()
        t0 = time.perf_counter()
        for _ in range(jobs):
            job_create(owner=owner, kind="test.noop")
        create_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        env.start_workers(workers, scheduler=False, poll_interval=0.05)
        while Job.objects.filter(state=JobState.SUCCEEDED).count() < jobs:
            time.sleep(0.05)
        drain_s = time.perf_counter() - t1
        print(
            f"db={db:8} workers={workers} jobs={jobs}  create={jobs / create_s:7.0f} jobs/s  "
            f"run={jobs / drain_s:6.1f} jobs/s  (drain {drain_s:.1f} s)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--one", nargs=2, metavar=("DB", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.one[0], int(args.one[1]), args.jobs)
        return
    # Each configuration in its own process: Django is set up once per process and database.
    for db in args.db:
        for workers in args.workers:
            command = [sys.executable, __file__, "--jobs", str(args.jobs), "--one", db, str(workers)]
            run = subprocess.run(command, capture_output=True, text=True)
            lines = [line for line in run.stdout.splitlines() if line.startswith("db=")]
            print(lines[-1] if lines else f"db={db} workers={workers} failed:\n{run.stderr[-2000:]}", flush=True)


if __name__ == "__main__":
    main()
