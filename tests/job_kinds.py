"""Job kinds that exist only for tests (and the queue benchmarks): they exercise the runner, not a feature.

Imported by tests/conftest.py; worker subprocesses load it through INTAGLIO_JOB_KIND_MODULES=tests.job_kinds.
"""

from __future__ import annotations

import time
from typing import Literal

import pydantic

from intaglio.assets.models import AssetKind
from intaglio.jobs.kinds import JobKind, register
from intaglio.jobs.runner import PermanentJobError, TransientJobError


class StepsParams(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    steps: int = pydantic.Field(default=1, ge=1, le=1000)
    step_seconds: float = pydantic.Field(default=0.0, ge=0, le=60)
    # "transient_until": fail transiently while attempts < fail_attempts, then succeed.
    fail: Literal["none", "transient", "permanent", "crash", "transient_until"] = "none"
    fail_attempts: int = 0


def run_steps(ctx) -> None:
    params = StepsParams(**ctx.params)
    for step in range(params.steps):
        time.sleep(params.step_seconds)
        ctx.progress(int(100 * (step + 1) / (params.steps + 1)))
    if params.fail == "transient" or (params.fail == "transient_until" and ctx.job.attempts < params.fail_attempts):
        raise TransientJobError("The provider is busy.")
    if params.fail == "permanent":
        raise PermanentJobError("This photo cannot be processed.")
    if params.fail == "crash":
        raise ZeroDivisionError("internal bug with a secret detail")
    # The side effect the queue tests count: exactly one output per succeeded job.
    ctx.save_output(
        kind=AssetKind.EXPORT,
        role="result",
        data=f"job {ctx.job.pk} attempt {ctx.job.attempts}".encode(),
        mime="text/plain",
        download_name=f"result-{ctx.job.pk}.txt",
    )


register(JobKind(name="test.noop", label="No-op", run=lambda ctx: None))
register(JobKind(name="test.steps", label="Steps", run=run_steps, params=StepsParams))
