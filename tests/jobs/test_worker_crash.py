"""Real worker processes, one killed with SIGKILL mid-job: bench/chaos_queue.py at a small size.

Runs on the database of the current pass (SQLite, or in the PostgreSQL pass its own throwaway cluster).
"""

import subprocess
import sys
from pathlib import Path

from django.conf import settings

BENCH = Path(__file__).resolve().parents[2] / "bench" / "chaos_queue.py"


def test_a_killed_worker_loses_nothing_and_duplicates_nothing():
    db = "postgres" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
    run = subprocess.run(
        [sys.executable, str(BENCH), "--db", db, "--jobs", "8", "--seconds", "1", "--timeout", "120"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = [line for line in run.stdout.splitlines() if line.startswith("jobs=")]
    assert result == ["jobs=8 succeeded=8 lost=0 stuck=0 duplicated_effects=0 ledger_mismatch=0"], run.stderr[-3000:]
    assert run.returncode == 0
    assert "killed_job_attempts=2 killed_job_state=succeeded" in run.stderr
