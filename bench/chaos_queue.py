"""Crash a worker mid-job and check that nothing is lost, stuck, done twice or mis-charged.

    python bench/chaos_queue.py --db postgres      (or --db sqlite; --jobs, --seconds, --workers to vary)

Starts `intaglio worker --processes 2` (workers + scheduler, as in production), enqueues 50 jobs of about a
second each, SIGKILLs the worker process running one of them mid-job, and waits. Every figure on the result line
is measured from the database, the ledger and the blob store afterwards. Exit status 0 only when all are zero.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's `queue` while this directory leads sys.path, so the
# directory goes last: the standard library wins, and sibling modules still import by name.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]

import argparse  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402

from queue_env import QueueEnv  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=1.0, help="duration of each job")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lease", type=int, default=3, help="lease seconds (short so the crash is noticed fast)")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    with QueueEnv(db=args.db, lease_seconds=args.lease) as env:
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        from intaglio.assets.models import Asset
        from intaglio.assets.scan import storage_scan
        from intaglio.credits.models import LedgerEntry
        from intaglio.credits.selectors import credit_balance
        from intaglio.jobs.models import TERMINAL_STATES, Job, JobState
        from intaglio.jobs.services import job_create

        owner = env.make_owner()
        start_balance = credit_balance(user=owner)
        params = {"steps": 10, "step_seconds": args.seconds / 10}
        job_ids = [job_create(owner=owner, kind="test.steps", params=params).pk for _ in range(args.jobs)]
        started = time.monotonic()
        env.start_workers(args.workers)

        # Wait for a job to be well under way, then SIGKILL the worker process that runs it.
        victim_job = victim_pid = None
        while victim_pid is None and time.monotonic() - started < args.timeout:
            running = Job.objects.filter(pk__in=job_ids, state=JobState.RUNNING, progress__gte=30).first()
            if running is not None:
                task = DBTaskResult.objects.filter(pk=running.task_id, status=TaskResultStatus.RUNNING).first()
                if task is not None and task.worker_ids:
                    victim_job, victim_pid = running.pk, int(task.worker_ids[-1].rsplit("-", 1)[1])
                    os.kill(victim_pid, signal.SIGKILL)
                    break
            time.sleep(0.05)
        print(f"killed worker pid={victim_pid} while it ran job {victim_job}", file=sys.stderr)

        while time.monotonic() - started < args.timeout:
            if not Job.objects.filter(pk__in=job_ids).exclude(state__in=TERMINAL_STATES).exists():
                break
            time.sleep(0.25)
        elapsed = time.monotonic() - started
        env.stop_workers()

        jobs = {job.pk: job for job in Job.objects.filter(pk__in=job_ids)}
        succeeded = sum(1 for job in jobs.values() if job.state == JobState.SUCCEEDED)
        lost = sum(1 for pk in job_ids if pk not in jobs) + sum(
            1 for job in jobs.values() if job.state in (JobState.FAILED, JobState.CANCELLED)
        )
        stuck = sum(1 for job in jobs.values() if job.state not in TERMINAL_STATES)
        # Effects: exactly one output per succeeded job, none for the others, and no stray blobs.
        duplicated = 0
        for job in jobs.values():
            outputs = Asset.objects.filter(produced_by=job).count()
            duplicated += max(0, outputs - (1 if job.state == JobState.SUCCEEDED else 0))
        scan = storage_scan()
        duplicated += len(scan.orphan_blobs)
        # Ledger: reserve + capture for each succeeded job, reserve + release otherwise; balance adds up.
        mismatch = 0
        for job in jobs.values():
            kinds = sorted(LedgerEntry.objects.filter(job=job).values_list("kind", flat=True))
            expected = ["capture", "reserve"] if job.state == JobState.SUCCEEDED else ["release", "reserve"]
            if kinds != expected:
                mismatch += 1
                print(f"ledger of job {job.pk} ({job.state}): {kinds}", file=sys.stderr)
        spent = sum(job.credits_reserved for job in jobs.values() if job.state == JobState.SUCCEEDED)
        balance = credit_balance(user=owner)
        if balance != start_balance - spent:
            mismatch += 1
            print(f"balance {balance} != {start_balance} - {spent}", file=sys.stderr)

        victim = jobs.get(victim_job)
        print(
            f"db={args.db} workers={args.workers} elapsed={elapsed:.1f}s killed_job_attempts="
            f"{victim.attempts if victim else 'n/a'} killed_job_state={victim.state if victim else 'n/a'}",
            file=sys.stderr,
        )
        print(
            f"jobs={args.jobs} succeeded={succeeded} lost={lost} stuck={stuck} "
            f"duplicated_effects={duplicated} ledger_mismatch={mismatch}"
        )
        ok = succeeded == args.jobs and not (lost or stuck or duplicated or mismatch) and victim_pid is not None
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
