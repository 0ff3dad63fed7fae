"""A throwaway platform for the queue benchmarks: a data directory, a database (SQLite, or a PostgreSQL cluster
from script/postgres), migrations, one funded account, and worker processes run exactly as in production."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class QueueEnv:
    def __init__(
        self, *, db: str, lease_seconds: int = 30, extra_env: dict | None = None, database_url: str | None = None
    ):
        self.db = db
        # A PostgreSQL database to use instead of a throwaway cluster (it is migrated, and left running).
        self.database_url = database_url
        self.dir = Path(tempfile.mkdtemp(prefix=f"intaglio-bench-{db}-"))
        self.pg_dir = self.dir / "pg"
        self.env = {
            **os.environ,
            "INTAGLIO_DATA_DIR": str(self.dir / "data"),
            "INTAGLIO_JOB_KIND_MODULES": "tests.job_kinds",
            "INTAGLIO_JOB_LEASE_SECONDS": str(lease_seconds),
            "INTAGLIO_SCHEDULER_TICK_SECONDS": "1",
            "INTAGLIO_JOB_COSTS": json.dumps({"test.steps": 1, "test.noop": 0}),
            "INTAGLIO_PLANS": json.dumps(
                {
                    "free": {
                        "monthly_credits": 100_000,
                        "storage_mb": 10_000,
                        "concurrent_jobs": 100_000,
                        "max_image_mp": 24,
                    }
                }
            ),
            # Its only plan is free, so no paid plan has a price.
            "INTAGLIO_PLAN_PRICES": "{}",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
            **(extra_env or {}),
        }
        self.env.pop("DATABASE_URL", None)
        self.workers: list[subprocess.Popen] = []

    def __enter__(self) -> QueueEnv:
        if self.db == "postgres" and self.database_url:
            self.env["DATABASE_URL"] = self.database_url
        elif self.db == "postgres":
            self.pg_dir.parent.chmod(0o755)
            started = subprocess.run(
                [str(REPO / "script" / "postgres"), "start", str(self.pg_dir)], capture_output=True, text=True
            )
            if started.returncode != 0:
                raise SystemExit(f"could not start PostgreSQL:\n{started.stderr}")
            self.env["DATABASE_URL"] = started.stdout.strip()
        elif self.db != "sqlite":
            raise SystemExit("--db must be sqlite or postgres")
        os.environ.update(self.env)
        sys.path.insert(0, str(REPO))
        import django

        os.environ["DJANGO_SETTINGS_MODULE"] = "intaglio.settings"
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return self

    def __exit__(self, *exc) -> None:
        self.stop_workers()
        from django.db import connections

        connections.close_all()
        if self.db == "postgres" and not self.database_url:
            subprocess.run([str(REPO / "script" / "postgres"), "stop", str(self.pg_dir)], capture_output=True)
        subprocess.run(["rm", "-rf", str(self.dir)])

    def make_owner(self):
        from intaglio.accounts.models import User
        from intaglio.credits.services import credits_grant_monthly

        owner = User.objects.create_user(email="bench@example.com", password="bench-password-1234")
        from django.utils import timezone

        # This month's grant, so the scheduler's hourly grant finds nothing to add during the run.
        credits_grant_monthly(user=owner, period=f"{timezone.now():%Y-%m}")
        return owner

    def start_workers(self, processes: int, *, scheduler: bool = True, poll_interval: float = 0.1) -> subprocess.Popen:
        command = [sys.executable, "-m", "intaglio.cli", "worker", "--processes", str(processes)]
        command += ["--poll-interval", str(poll_interval)] + ([] if scheduler else ["--no-scheduler"])
        log = open(self.dir / f"workers-{len(self.workers)}.log", "w")  # noqa: SIM115 - lives as long as the workers
        supervisor = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        self.workers.append(supervisor)
        return supervisor

    def stop_workers(self) -> None:
        for supervisor in self.workers:
            if supervisor.poll() is None:
                supervisor.terminate()
        for supervisor in self.workers:
            try:
                supervisor.wait(timeout=60)
            except subprocess.TimeoutExpired:
                supervisor.kill()
        self.workers = []
