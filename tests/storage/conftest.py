"""The throwaway S3 server (script/s3: Ceph's radosgw), started once per test run when a test needs it.

Skipped when script/s3 cannot start (not root and Ceph missing) unless INTAGLIO_REQUIRE_S3 is set.
"""

import os
import shlex
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "script" / "s3"


@pytest.fixture(scope="session")
def s3_env(tmp_path_factory):
    state = tmp_path_factory.mktemp("s3")
    started = subprocess.run([str(SCRIPT), "start", str(state)], capture_output=True, text=True, timeout=600)
    try:
        if started.returncode != 0:
            message = f"script/s3 start exited {started.returncode}:\n{started.stderr[-4000:]}"
            if os.environ.get("INTAGLIO_REQUIRE_S3"):
                pytest.fail(message)
            pytest.skip(message)
        lines = [line for line in started.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"script/s3 start printed {started.stdout!r}"
        env = dict(word.split("=", 1) for word in shlex.split(lines[0]))
        assert set(env) == {"S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION"}
        yield env
    finally:
        subprocess.run([str(SCRIPT), "stop", str(state)], capture_output=True, text=True, timeout=120)
