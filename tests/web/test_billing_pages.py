"""The pricing page, the account's plan section and the credit history (one line per job, running balance)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from intaglio.assets.models import Asset, AssetKind
from intaglio.billing.models import BillingAccount
from intaglio.billing.services import checkout_start
from intaglio.credits.services import credits_capture, credits_grant_monthly, credits_release, credits_reserve
from intaglio.jobs.models import Job
from tests.billing.conftest import post_event
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_without_a_stripe_key_the_pricing_page_says_payments_are_not_configured(client, settings):
    settings.STRIPE_API_KEY = ""
    page = client.get("/pricing/").content.decode()
    assert "Payments are not configured" in page
    for plan, price in settings.PLAN_PRICES.items():
        assert price["display"] in page and f"{settings.PLANS[plan]['monthly_credits']}</strong> credits" in page
    client.force_login(make_user())
    assert client.post("/billing/checkout/pro/").status_code == 302  # refused with a message, nothing breaks
    assert "upgrade-pro" not in client.get("/pricing/").content.decode()


def test_with_payments_on_a_signed_in_user_can_upgrade_and_buy_packs(client, stripe_fake):
    client.force_login(make_user())
    page = client.get("/pricing/").content.decode()
    assert "Payments are not configured" not in page
    assert 'id="upgrade-pro"' in page and 'id="buy-pack_100"' in page


def test_the_account_page_shows_plan_renewal_past_due_and_what_a_downgrade_would_exceed(client, stripe_fake):
    user = make_user()
    client.force_login(user)
    for event in stripe_fake.complete_checkout(
        checkout_start(user=user, product="pro", attempt="1").rsplit("/", 1)[-1]
    ):
        post_event(client, event)
    page = client.get("/account/").content.decode()
    assert "Pro plan" in page and "renews on" in page and 'id="manage-billing"' in page
    # More jobs running than the free plan allows: named before cancelling.
    for _ in range(settings.PLANS["free"]["concurrent_jobs"] + 1):
        Job.objects.create(owner=user, kind="preview", params={})
    page = client.get("/account/").content.decode()
    assert 'id="downgrade-warning"' in page and "Jobs at a time" in page
    subscription = BillingAccount.objects.get(user=user).subscription_id
    for event in stripe_fake.renew(subscription, paid=False):
        post_event(client, event)
    page = client.get("/account/").content.decode()
    assert 'id="past-due"' in page and "billing portal" in page
    for event in stripe_fake.set_cancel_at_period_end(subscription):
        post_event(client, event)
    assert 'id="plan-ends"' in client.get("/account/").content.decode()


def test_the_downgrade_warning_names_a_stored_photo_larger_than_the_free_plan_accepts(client, stripe_fake):
    user = make_user()
    client.force_login(user)
    for event in stripe_fake.complete_checkout(
        checkout_start(user=user, product="pro", attempt="1").rsplit("/", 1)[-1]
    ):
        post_event(client, event)
    limit = settings.PLANS["free"]["max_image_mp"]
    # At the free limit exactly: nothing to warn about. An artwork (an output, not an upload) never counts.
    width = 6000
    at_limit = limit * 1_000_000 // width
    Asset.objects.create(
        owner=user,
        kind=AssetKind.SOURCE_PHOTO,
        mime="image/jpeg",
        sha256="a" * 64,
        bytes=1,
        width=width,
        height=at_limit,
        download_name="a.jpg",
        retention_class="private_upload",
    )
    Asset.objects.create(
        owner=user,
        kind=AssetKind.ARTWORK,
        mime="image/png",
        sha256="b" * 64,
        bytes=1,
        width=20_000,
        height=20_000,
        download_name="b.png",
        retention_class="account_content",
    )
    assert "Photo size" not in client.get("/account/").content.decode()
    Asset.objects.create(
        owner=user,
        kind=AssetKind.REFERENCE_IMAGE,
        mime="image/jpeg",
        sha256="c" * 64,
        bytes=1,
        width=width,
        height=at_limit + 50,
        download_name="c.jpg",
        retention_class="private_upload",
    )
    page = client.get("/account/").content.decode()
    assert 'id="downgrade-warning"' in page and "Photo size" in page
    assert f"a {width * (at_limit + 50) / 1e6:.1f} MP photo stored" in page and f"{limit} MP" in page
    Asset.objects.filter(owner=user).delete()  # rows made without blobs: none left for the orphan check


def test_the_history_shows_one_line_per_job_with_its_state_and_the_running_balance(client):
    user = make_user()
    client.force_login(user)
    credits_grant_monthly(user=user, period="2026-11")  # 20
    spent = Job.objects.create(owner=user, kind="preview", params={}, credits_reserved=3)
    credits_reserve(job=spent, credits=3)
    credits_capture(job=spent)
    returned = Job.objects.create(owner=user, kind="preview", params={}, credits_reserved=5)
    credits_reserve(job=returned, credits=5)
    credits_release(job=returned)
    running = Job.objects.create(owner=user, kind="preview", params={}, credits_reserved=2)
    credits_reserve(job=running, credits=2)
    page = client.get("/credits/").content.decode()
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)[1:]
    assert len(rows) == 4  # the grant and one line per job, not a pair per job
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert "2 credits held while it runs" in text[0] and text[0].endswith("−2 15")
    assert "5 credits returned" in text[1] and text[1].endswith("0 17")
    assert "3 credits spent" in text[2] and text[2].endswith("−3 17")
    assert "Monthly allowance" in text[3] and text[3].endswith("+20 20")
