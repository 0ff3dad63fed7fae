"""Worker processes: a supervisor that keeps N queue workers alive and ticks the scheduler.

`intaglio worker` runs the supervisor; each child is `intaglio worker --child`, a django-tasks-db worker loop
that stops on its own when its supervisor disappears (so a killed supervisor leaves no stray workers). A child
gives freed memory back after every job and stops after WORKER_MAX_JOBS jobs or when it stays above
WORKER_MAX_RSS_MB; the supervisor starts a fresh one in its place.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from intaglio.assets.memory import release_memory, rss_bytes
from intaglio.core.scheduler import scheduler_tick

log = logging.getLogger("intaglio.workers")


def run_child(*, poll_interval: float) -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    class RecyclingWorker(Worker):
        """Gives memory back after every job, and stops (to be replaced by the supervisor) when it stays high."""

        def run_task(self, db_task_result) -> None:
            try:
                super().run_task(db_task_result)
            finally:
                release_memory()
                if recycle_after_job(self._run_tasks, rss_bytes()):
                    self.running = False

    worker = RecyclingWorker(
        queue_names=["*"],
        interval=poll_interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{socket.gethostname()[:40]}-{os.getpid()}",
        excluded_queue_names=[],
    )
    worker.configure_signals()
    parent = os.getppid()

    def orphan_watch():
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=orphan_watch, daemon=True, name="orphan-watch").start()
    log.info("worker.started", extra={"worker_id": worker.worker_id})
    worker.run()


def recycle_after_job(jobs_run: int, rss: int) -> bool:
    """Whether a worker that has run `jobs_run` jobs and holds `rss` bytes now should stop and be replaced.

    After a job on a huge image, memory can stay fragmented even once freed and trimmed; a fresh process is the one
    sure way back to its baseline. The counts are WORKER_MAX_JOBS and WORKER_MAX_RSS_MB (0 turns either off)."""
    if settings.WORKER_MAX_JOBS and jobs_run >= settings.WORKER_MAX_JOBS:
        log.info("worker.recycle", extra={"reason": "jobs", "jobs": jobs_run})
        return True
    if settings.WORKER_MAX_RSS_MB and rss > settings.WORKER_MAX_RSS_MB * 1024 * 1024:
        log.info("worker.recycle", extra={"reason": "memory", "rss_mb": rss // (1024 * 1024), "jobs": jobs_run})
        return True
    return False


class Supervisor:
    def __init__(self, *, processes: int, scheduler: bool, poll_interval: float):
        self.processes, self.scheduler, self.poll_interval = processes, scheduler, poll_interval
        self.children: list[subprocess.Popen] = []
        self.stopping = False

    def _spawn(self) -> subprocess.Popen:
        command = [
            sys.executable,
            "-m",
            "intaglio.cli",
            "worker",
            "--child",
            "--poll-interval",
            str(self.poll_interval),
        ]
        return subprocess.Popen(command)  # noqa: S603 - our own interpreter and module

    def _stop(self, signum, frame) -> None:
        self.stopping = True

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.children = [self._spawn() for _ in range(self.processes)]
        log.info("workers.started", extra={"processes": self.processes, "scheduler": self.scheduler})
        next_tick = 0.0
        try:
            while not self.stopping:
                if self.scheduler and time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + settings.SCHEDULER_TICK_SECONDS
                    try:
                        close_old_connections()
                        scheduler_tick()
                    except Exception:
                        log.exception("scheduler.tick_failed")
                for index, child in enumerate(self.children):
                    if child.poll() is not None and not self.stopping:
                        # 0 is a worker that recycled itself (recycle_after_job); anything else is a crash.
                        level = logging.INFO if child.returncode == 0 else logging.WARNING
                        log.log(level, "worker.exited", extra={"pid": child.pid, "returncode": child.returncode})
                        self.children[index] = self._spawn()
                time.sleep(0.5)
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        # Running jobs finish (django-tasks-db stops after the current task on SIGTERM); a worker that takes
        # longer than the grace period is killed and its job's lease lapses, so the reaper hands it on.
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + settings.JOB_LEASE_SECONDS
        for child in self.children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()


def run_queued_here() -> int:
    """Runs every task now on the queue in this process and returns how many ran: for a command that does its
    own jobs (`intaglio jewellery batch`) where no worker may be running. Tasks that are not due yet wait."""
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{socket.gethostname()[:40]}-{os.getpid()}-here",
        excluded_queue_names=[],
    )
    worker.run()
    return worker._run_tasks
