"""Stripe webhooks: verified from the raw body, applied once per event id, and correct in any order (the handler
reads the objects' current state), with credits granted only from them."""

from __future__ import annotations

import itertools
import time

import pytest
from django.conf import settings

from intaglio.billing.models import BillingAccount, Payment, StripeEvent
from intaglio.billing.services import billing_grace_lapsed, checkout_start
from intaglio.credits.models import EntryKind, LedgerEntry
from intaglio.credits.selectors import credit_balance, credit_debt
from intaglio.credits.services import CreditsOwed, credits_reserve
from intaglio.jobs.models import Job
from tests.billing.conftest import post_event
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PRO = settings.PLANS["pro"]["monthly_credits"]
PACK = settings.CREDIT_PACKS["pack_100"]["credits"]


def _session_id(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _buy(fake, user, product: str, attempt: str = "a1") -> list[dict]:
    session = _session_id(checkout_start(user=user, product=product, attempt=attempt))
    return fake.complete_checkout(session)


def test_a_plan_bought_through_checkout_grants_its_credits_once_from_the_webhook(client, stripe_fake):
    user = make_user()
    events = _buy(stripe_fake, user, "pro")
    assert credit_balance(user=user) == 0  # nothing before a webhook lands (not from the redirect)
    for event in events + events:  # every event delivered twice
        assert post_event(client, event).status_code == 200
    user.refresh_from_db()
    assert user.plan == "pro"
    assert credit_balance(user=user) == PRO
    grant = LedgerEntry.objects.get(user=user, kind=EntryKind.GRANT)
    assert grant.expires_at is not None and grant.invoice_url.startswith(stripe_fake.url)
    assert StripeEvent.objects.count() == len(events)


def test_any_arrival_order_ends_in_the_same_state(client, stripe_fake):
    """Plan bought, renewed, a pack bought and half refunded, then cancelled: every order of those events agrees."""
    user = make_user()
    events = _buy(stripe_fake, user, "pro")
    subscription = stripe_fake.subscriptions_of(BillingAccount.objects.get(user=user).customer_id)[0]["id"]
    events += stripe_fake.renew(subscription)
    events += _buy(stripe_fake, user, "pack_100", attempt="a2")
    pack_charge = [c for c in stripe_fake.charges_of(subscription and stripe_fake.objects[subscription]["customer"])][
        -1
    ]
    events += stripe_fake.refund(pack_charge["id"], amount=pack_charge["amount"] // 2)
    events += stripe_fake.set_cancel_at_period_end(subscription)
    events += stripe_fake.end_subscription(subscription)
    expected_balance = 2 * PRO + PACK - PACK // 2
    orders = [events, list(reversed(events))] + [
        [events[i] for i in perm] for perm in itertools.islice(_shuffles(len(events)), 4)
    ]
    for order in orders:
        LedgerEntry.objects.filter(user=user).delete()
        Payment.objects.all().delete()
        StripeEvent.objects.all().delete()
        BillingAccount.objects.filter(user=user).update(subscription_id="", subscription_status="", plan="")
        type(user).objects.filter(pk=user.pk).update(plan="free")
        for event in order:
            assert post_event(client, event).status_code == 200
        user.refresh_from_db()
        assert credit_balance(user=user) == expected_balance
        assert user.plan == "free"  # the subscription ended, whatever came last


def _shuffles(n: int):
    import random

    rng = random.Random(20)
    while True:
        order = list(range(n))
        rng.shuffle(order)
        yield order


def test_forged_and_stale_signatures_are_refused(client, stripe_fake):
    user = make_user()
    event = _buy(stripe_fake, user, "pack_100")[-1]
    assert post_event(client, event, secret="whsec_wrong").status_code == 400
    assert post_event(client, event, timestamp=int(time.time()) - 301).status_code == 400
    assert post_event(client, event, timestamp=int(time.time()) + 301).status_code == 400
    response = client.post("/hooks/stripe/", b"{}", content_type="application/json")
    assert response.status_code == 400
    assert credit_balance(user=user) == 0 and not StripeEvent.objects.exists()
    assert post_event(client, event, timestamp=int(time.time()) - 290).status_code == 200
    assert credit_balance(user=user) == PACK


def test_a_refund_larger_than_the_balance_leaves_a_debt_that_stops_paid_jobs_until_settled(client, stripe_fake):
    user = make_user()
    for event in _buy(stripe_fake, user, "pack_100"):
        post_event(client, event)
    # 80 of the 100 credits are spent on a job.
    job = Job.objects.create(owner=user, kind="preview", params={}, credits_reserved=80)
    credits_reserve(job=job, credits=80)
    charge = stripe_fake.charges_of(BillingAccount.objects.get(user=user).customer_id)[0]
    for event in stripe_fake.dispute(charge["id"]):
        post_event(client, event)
    assert credit_balance(user=user) == 0  # never negative
    assert credit_debt(user=user) == 80
    reversal = LedgerEntry.objects.get(user=user, kind=EntryKind.REVERSAL)
    assert (reversal.credits, reversal.delta, reversal.shortfall) == (PACK, -20, 80)
    other = Job.objects.create(owner=user, kind="preview", params={}, credits_reserved=1)
    with pytest.raises(CreditsOwed):
        credits_reserve(job=other, credits=1)
    # A new pack settles the debt first.
    for event in _buy(stripe_fake, user, "pack_100", attempt="a2"):
        post_event(client, event)
    assert credit_debt(user=user) == 0
    assert credit_balance(user=user) == PACK - 80
    credits_reserve(job=other, credits=1)


def test_a_failed_renewal_keeps_the_plan_for_the_grace_period_then_falls_back(client, stripe_fake):
    from datetime import timedelta

    from django.utils import timezone

    user = make_user()
    for event in _buy(stripe_fake, user, "pro"):
        post_event(client, event)
    subscription = BillingAccount.objects.get(user=user).subscription_id
    for event in stripe_fake.renew(subscription, paid=False):
        post_event(client, event)
    account = BillingAccount.objects.get(user=user)
    user.refresh_from_db()
    assert account.subscription_status == "past_due" and account.past_due_since is not None
    assert user.plan == "pro"
    assert credit_balance(user=user) == PRO  # a failed invoice grants nothing
    assert billing_grace_lapsed(now=timezone.now() + timedelta(days=settings.BILLING_GRACE_DAYS - 1)) == 0
    assert billing_grace_lapsed(now=timezone.now() + timedelta(days=settings.BILLING_GRACE_DAYS, minutes=1)) == 1
    user.refresh_from_db()
    assert user.plan == "free"


def test_the_success_redirect_grants_nothing(client, stripe_fake):
    user = make_user()
    client.force_login(user)
    session = _session_id(checkout_start(user=user, product="pack_100", attempt="x"))
    stripe_fake.complete_checkout(session)  # paid at Stripe, but the webhook has not landed
    response = client.get(f"/billing/return/?result=success&session_id={session}")
    assert response.status_code == 302
    assert credit_balance(user=user) == 0


def test_an_event_for_a_customer_we_do_not_know_is_acknowledged_and_changes_nothing(client, stripe_fake):
    user = make_user()
    events = _buy(stripe_fake, user, "pack_100")
    BillingAccount.objects.filter(user=user).update(customer_id="cus_someone_else")
    assert post_event(client, events[-1]).json() == {"status": "unknown_customer"}
    assert credit_balance(user=user) == 0


def test_without_a_webhook_secret_deliveries_are_refused(client, stripe_fake, settings):
    user = make_user()
    event = _buy(stripe_fake, user, "pack_100")[-1]
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert post_event(client, event).status_code == 404
    assert credit_balance(user=user) == 0


def test_a_cancellation_scheduled_by_date_alone_is_shown_as_ending_on_that_date(client, stripe_fake):
    # Stripe also schedules cancellations with `cancel_at` and no flag (e.g. cancel_at=min_period_end).
    user = make_user()
    for event in _buy(stripe_fake, user, "pro"):
        post_event(client, event)
    account = BillingAccount.objects.get(user=user)
    assert account.cancel_at_period_end is False
    subscription = stripe_fake.objects[account.subscription_id]
    ends = subscription["items"]["data"][0]["current_period_end"] - 86_400
    subscription["cancel_at"] = ends
    post_event(client, stripe_fake._event("customer.subscription.updated", subscription))
    account.refresh_from_db()
    assert account.cancel_at_period_end is True and int(account.current_period_end.timestamp()) == ends
    user.refresh_from_db()
    assert user.plan == "pro"  # still in force until then
