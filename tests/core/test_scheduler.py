"""The scheduler: each periodic task once per period, however many schedulers tick at the same moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from intaglio.core import scheduler
from intaglio.core.models import PeriodicRun
from intaglio.credits.selectors import credit_balance
from intaglio.jobs.services import jobs_prune_history
from tests.factories import make_user


@pytest.fixture
def counter(monkeypatch):
    """A registered periodic task that counts its runs, alone in the registry."""
    runs = []
    monkeypatch.setattr(scheduler, "_periodic", {})
    scheduler.periodic("test.count", every=timedelta(minutes=10))(lambda: runs.append(1) or len(runs))
    return runs


def test_the_platforms_periodic_work_is_registered():
    names = {task.name for task in scheduler.registered()}
    assert {"jobs.reap_leases", "jobs.prune_history", "credits.grant_monthly"} <= names


def test_once_per_period(db, counter):
    noon = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert scheduler.scheduler_tick(now=noon) == ["test.count"]
    assert scheduler.scheduler_tick(now=noon + timedelta(minutes=5)) == []  # same ten-minute period
    assert scheduler.scheduler_tick(now=noon + timedelta(minutes=10)) == ["test.count"]
    assert len(counter) == 2
    run = PeriodicRun.objects.filter(name="test.count").latest("started_at")
    assert run.finished_at is not None and run.outcome == "2"


def test_monthly_period_is_the_calendar_month():
    task = scheduler.Periodic(name="m", run=lambda: None, monthly=True)
    assert task.period(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == "2026-11"
    assert task.period(datetime(2026, 12, 1, 0, 0, tzinfo=UTC)) == "2026-12"


def test_a_failing_task_is_recorded_and_does_not_stop_the_others(db, monkeypatch):
    monkeypatch.setattr(scheduler, "_periodic", {})
    scheduler.periodic("a.boom", every=timedelta(minutes=1))(lambda: 1 / 0)
    scheduler.periodic("b.fine", every=timedelta(minutes=1))(lambda: "ok")
    assert scheduler.scheduler_tick() == ["a.boom", "b.fine"]
    assert PeriodicRun.objects.get(name="a.boom").outcome.startswith("error: ZeroDivisionError")


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_run_a_period_exactly_once_on_postgresql(counter):
    if connection.vendor != "postgresql":
        pytest.skip("parallel database sessions are exercised on PostgreSQL (script/test runs this pass)")
    noon = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    start = threading.Barrier(8)

    def tick():
        try:
            start.wait()
            scheduler.scheduler_tick(now=noon)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(counter) == 1
    assert PeriodicRun.objects.filter(name="test.count").count() == 1


def test_monthly_grant_reaches_every_open_account_once(db):
    from intaglio.credits.periodic import grant_monthly

    alice, bob, closed = make_user(), make_user(), make_user(closed_at=timezone.now(), is_active=False)
    assert grant_monthly() == {"granted": 2}
    assert grant_monthly() == {"granted": 0}
    assert (credit_balance(user=alice), credit_balance(user=bob), credit_balance(user=closed)) == (20, 20, 0)


def test_history_pruning_keeps_recent_records(db):
    old = timezone.now() - timedelta(days=30)
    PeriodicRun.objects.create(name="x", period="1", started_at=old)
    PeriodicRun.objects.create(name="x", period="2")
    from intaglio.jobs.tasks import run_job

    done = DBTaskResult.objects.get(pk=run_job.enqueue(job_id=0).id)
    DBTaskResult.objects.filter(pk=done.pk).update(status=TaskResultStatus.SUCCESSFUL, finished_at=old)
    assert jobs_prune_history() == {"task_results": 1, "periodic_runs": 1}
    assert PeriodicRun.objects.filter(name="x").count() == 1
