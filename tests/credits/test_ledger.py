"""The credit ledger: grants, reserve → capture | release, idempotent entries, a balance that never goes negative."""

import threading

import pytest
from django.db import connection, connections

from intaglio.credits.models import LedgerEntry
from intaglio.credits.selectors import credit_balance
from intaglio.credits.services import credits_grant_monthly
from intaglio.jobs.lifecycle import job_transition
from intaglio.jobs.models import Job, JobState
from intaglio.jobs.services import JobRefused, job_cancel, job_create
from tests.factories import make_user


@pytest.fixture
def funded(db, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "test.noop": 3}
    user = make_user()
    credits_grant_monthly(user=user, period="2026-11")
    return user


def test_monthly_grant_is_once_per_period(funded):
    assert credit_balance(user=funded) == 20  # the free plan's allowance
    assert credits_grant_monthly(user=funded, period="2026-11") is None
    assert credit_balance(user=funded) == 20
    credits_grant_monthly(user=funded, period="2026-12")
    assert credit_balance(user=funded) == 40


def test_reserve_then_capture_spends_once(funded):
    job = job_create(owner=funded, kind="test.noop")
    assert credit_balance(user=funded) == 17
    job = job_transition(job=job, to=JobState.RUNNING)
    job = job_transition(job=job, to=JobState.SUCCEEDED)
    assert credit_balance(user=funded) == 17
    kinds = sorted(LedgerEntry.objects.filter(job=job).values_list("kind", flat=True))
    assert kinds == ["capture", "reserve"]


@pytest.mark.parametrize("end", [JobState.FAILED, JobState.CANCELLED])
def test_failure_or_cancel_releases_the_credits(funded, end):
    job = job_create(owner=funded, kind="test.noop")
    job = job_transition(job=job, to=JobState.RUNNING)
    job_transition(job=job, to=end)
    assert credit_balance(user=funded) == 20


def test_cancel_of_a_queued_job_is_immediate_and_a_running_one_is_flagged(funded):
    queued = job_create(owner=funded, kind="test.noop")
    assert job_cancel(job=queued).state == JobState.CANCELLED
    running = job_transition(job=job_create(owner=funded, kind="test.noop"), to=JobState.RUNNING)
    running = job_cancel(job=running)
    assert running.state == JobState.RUNNING and running.cancel_requested


def test_terminal_states_do_not_move_and_entries_are_not_repeated(funded):
    job = job_transition(job=job_create(owner=funded, kind="test.noop"), to=JobState.RUNNING)
    job = job_transition(job=job, to=JobState.FAILED)
    from intaglio.jobs.lifecycle import InvalidTransition

    with pytest.raises(InvalidTransition):
        job_transition(job=job, to=JobState.SUCCEEDED)
    from intaglio.credits.services import credits_capture, credits_release

    credits_release(job=job)
    credits_capture(job=job)  # a late success report cannot charge a released job
    assert LedgerEntry.objects.filter(job=job).count() == 2
    assert credit_balance(user=funded) == 20


def test_not_enough_credits_is_refused_clearly(funded, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "test.noop": 21}
    with pytest.raises(JobRefused) as refused:
        job_create(owner=funded, kind="test.noop")
    assert refused.value.code == "insufficient_credits"
    assert "needs 21 credits and you have 20" in str(refused.value)
    assert not Job.objects.exists()
    assert credit_balance(user=funded) == 20


def test_plan_concurrency_limit_is_refused_clearly(funded):
    job_create(owner=funded, kind="test.noop")
    job_create(owner=funded, kind="test.noop")
    with pytest.raises(JobRefused) as refused:
        job_create(owner=funded, kind="test.noop")
    assert refused.value.code == "plan_limit" and "2 jobs at a time" in str(refused.value)


def test_same_idempotency_key_returns_the_same_job_and_reserves_once(funded):
    first = job_create(owner=funded, kind="test.noop", idempotency_key="abc")
    again = job_create(owner=funded, kind="test.noop", idempotency_key="abc")
    assert first.pk == again.pk
    assert credit_balance(user=funded) == 17


@pytest.mark.django_db(transaction=True)
def test_parallel_creations_never_overspend_on_postgresql(settings):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are exercised on PostgreSQL (script/test runs this pass); SQLite serialises writers")
    settings.PLANS = {
        **settings.PLANS,
        "free": {**settings.PLANS["free"], "monthly_credits": 5, "concurrent_jobs": 100},
    }
    user = make_user()
    credits_grant_monthly(user=user, period="2026-11")
    outcomes, start = [], threading.Barrier(20)

    def create():
        try:
            start.wait()
            job_create(owner=user, kind="test.noop")
            outcomes.append("accepted")
        except JobRefused as refused:
            outcomes.append(refused.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("accepted") == 5
    assert outcomes.count("insufficient_credits") == 15
    assert credit_balance(user=user) == 0
    assert Job.objects.filter(owner=user).count() == 5
