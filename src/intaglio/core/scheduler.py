"""Periodic work without cron: each registered task runs at most once per period, however many schedulers tick.

A tick claims (task, period) by inserting a PeriodicRun row; the database's unique constraint lets exactly one
scheduler win, and only the winner runs the task. A period whose winner crashed mid-run is not retried: every
periodic task is idempotent and the next period catches up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from intaglio.core.models import PeriodicRun

log = logging.getLogger("intaglio.scheduler")


@dataclass(frozen=True)
class Periodic:
    name: str
    run: Callable[[], object]
    every: timedelta | None = None  # a fixed interval, aligned to the epoch
    monthly: bool = False  # once per calendar month (UTC)

    def period(self, now: datetime) -> str:
        if self.monthly:
            return f"{now:%Y-%m}"
        seconds = int(self.every.total_seconds())
        return str(int(now.timestamp()) // seconds)


_periodic: dict[str, Periodic] = {}


def periodic(name: str, *, every: timedelta | None = None, monthly: bool = False):
    """Registers a function as periodic work (decorator)."""
    if (every is None) == (not monthly):
        raise ValueError("give exactly one of every= or monthly=True")

    def register(fn):
        _periodic[name] = Periodic(name=name, run=fn, every=every, monthly=monthly)
        return fn

    return register


def registered() -> list[Periodic]:
    return sorted(_periodic.values(), key=lambda p: p.name)


def scheduler_tick(*, now: datetime | None = None) -> list[str]:
    """Runs every periodic task whose current period nobody has claimed yet; returns the names it ran."""
    now = now or timezone.now()
    ran = []
    for task in registered():
        period = task.period(now)
        try:
            with transaction.atomic():
                claim = PeriodicRun.objects.create(name=task.name, period=period, started_at=timezone.now())
        except IntegrityError:
            continue  # another scheduler has this period
        try:
            outcome = task.run()
        except Exception as exc:
            outcome = f"error: {type(exc).__name__}: {exc}"
            log.exception("scheduler.task_failed", extra={"task": task.name, "period": period})
        PeriodicRun.objects.filter(pk=claim.pk).update(finished_at=timezone.now(), outcome=str(outcome)[:500])
        ran.append(task.name)
    return ran
