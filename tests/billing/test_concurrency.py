"""The same Stripe event delivered to two web processes at once is applied once (PostgreSQL: row locks and the
unique event id; SQLite serialises writers, so the race is exercised on PostgreSQL only)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from intaglio.billing import services
from intaglio.billing.models import BillingAccount, StripeEvent
from intaglio.billing.services import checkout_start
from intaglio.credits.models import EntryKind, LedgerEntry
from intaglio.credits.selectors import credit_balance
from tests.factories import make_user
from tests.fakes.stripe import sign


def _deliver_together(monkeypatch, fake, events: list[dict]) -> list[int]:
    """Posts each event from its own thread and connection; every handler has read Stripe before any writes."""
    barrier = threading.Barrier(len(events))
    read_state = services._read_state

    def read_then_wait(*args, **kwargs):
        state = read_state(*args, **kwargs)
        barrier.wait(timeout=20)  # all have passed the "already handled?" check and read Stripe
        return state

    monkeypatch.setattr(services, "_read_state", read_then_wait)
    statuses = []

    def post(event):
        try:
            payload = json.dumps(event).encode()
            header = sign(payload, fake.webhook_secret, int(time.time()))
            response = Client().post(
                "/hooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
            statuses.append((response.status_code, response.json().get("status")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.django_db(transaction=True)
def test_the_same_event_at_two_processes_at_once_is_applied_once(monkeypatch, stripe_fake):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are exercised on PostgreSQL (script/test runs this pass); SQLite serialises writers")
    user = make_user()
    session = checkout_start(user=user, product="pack_100", attempt="1").rsplit("/", 1)[-1]
    completed = stripe_fake.complete_checkout(session)[-1]
    statuses = _deliver_together(monkeypatch, stripe_fake, [completed, completed])
    assert sorted(statuses) == [(200, "applied"), (200, "duplicate")]
    assert StripeEvent.objects.filter(event_id=completed["id"]).count() == 1
    assert LedgerEntry.objects.filter(user=user, kind=EntryKind.PURCHASE).count() == 1
    assert credit_balance(user=user) == 100


@pytest.mark.django_db(transaction=True)
def test_two_events_about_one_invoice_at_once_grant_it_once(monkeypatch, stripe_fake):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are exercised on PostgreSQL (script/test runs this pass); SQLite serialises writers")
    user = make_user()
    session = checkout_start(user=user, product="pro", attempt="1").rsplit("/", 1)[-1]
    events = stripe_fake.complete_checkout(session)
    subscription = BillingAccount.objects.get(user=user)
    assert subscription.subscription_id == ""  # nothing applied yet
    statuses = _deliver_together(monkeypatch, stripe_fake, events)  # subscription.created, invoice.paid, completed
    assert [code for code, _ in statuses] == [200] * len(events)
    assert LedgerEntry.objects.filter(user=user, kind=EntryKind.GRANT).count() == 1
    user.refresh_from_db()
    assert user.plan == "pro"
