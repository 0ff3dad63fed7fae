"""Paying in a real browser against the local Stripe: a free user upgrades to Pro through Checkout, gets the month's
credits when the webhook lands, buys a pack, falls past due and recovers, cancels in the portal and drops to the
free plan when the period ends. The pricing page, the plan section, the credit history and the past-due banner are
screenshotted at 1280 and 390 px."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from django.conf import settings

from tests.e2e.conftest import running_server
from tests.e2e.support import DESKTOP, PageWatch, screenshot_on_a_phone, sign_up
from tests.fakes.stripe import FakeStripe, prices_from_settings

pytestmark = pytest.mark.browser

PASSWORD = "burnished-silver-ring-7"
FREE, PRO = settings.PLANS["free"]["monthly_credits"], settings.PLANS["pro"]["monthly_credits"]
PACK = settings.CREDIT_PACKS["pack_100"]["credits"]


@pytest.fixture(scope="module")
def stripe_and_server(tmp_path_factory):
    with FakeStripe("sk_test_e2e", "whsec_e2e", prices=prices_from_settings(settings)) as fake:
        env = {
            "STRIPE_API_KEY": fake.api_key,
            "STRIPE_WEBHOOK_SECRET": fake.webhook_secret,
            "STRIPE_API_BASE": fake.url,
        }
        with running_server(tmp_path_factory.mktemp("billing-data"), **env) as server:
            fake.webhook_url = server.url + "/hooks/stripe/"
            yield fake, server


def _balance(page) -> int:
    page.goto("/credits/")
    figure = page.locator("#balance-title + .summary-figure").inner_text()
    return int(re.match(r"\d+", figure.strip()).group(0))


def _follow(page, watch: PageWatch, button: str, url: str, where: str) -> None:
    """Clicks `button` and waits to land on `url`; a refusal on the way (a CSP block is a console error) is named."""
    page.locator(button).click()
    try:
        page.wait_for_url(url)
    except Exception:
        watch.check(where)
        raise AssertionError(f"{where}: still on {page.url}") from None


def _wait_for(check, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.3)
    return result


def test_upgrade_buy_a_pack_fall_past_due_cancel_and_downgrade(stripe_and_server, chromium_browser, screenshot_dir):
    fake, server = stripe_and_server
    shots = screenshot_dir
    email = f"billing-{uuid.uuid4().hex[:10]}@example.com"
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    watch = PageWatch(server)
    watch.attach(page)

    def shot(name: str, where: str) -> None:
        page.wait_for_load_state("load")
        watch.check(where)
        page.screenshot(path=str(shots / f"billing-{name}.png"), full_page=True)
        screenshot_on_a_phone(page, shots / f"billing-{name}-mobile.png", where)
        watch.check(f"{where} (390px)")

    try:
        sign_up(page, server, email, PASSWORD)
        assert _balance(page) == FREE

        # Pricing, as a free user: every plan with its price, and packs.
        page.goto("/pricing/")
        assert page.locator("#payments-off").count() == 0
        assert settings.PLAN_PRICES["pro"]["display"] in page.inner_text("main")
        shot("pricing", "pricing")

        # Upgrade: our form → Stripe's hosted Checkout (the fake's) → pay → back on the site.
        _follow(page, watch, "#upgrade-pro", f"{fake.url}/checkout/**", "upgrade to Pro")
        assert "a month" in page.inner_text("body")
        _follow(page, watch, "#pay", "**/credits/", "back from checkout")
        watch.check("back from checkout")
        # Credits come from the webhook, not the redirect: wait for them, then they are granted once.
        _wait_for(lambda: _balance(page) == FREE + PRO, "the plan's credits")
        assert "Pro plan" in page.inner_text("main")
        assert page.locator(".ledger-table tbody tr").filter(has_text="Pro plan").count() == 1

        # A credit pack, the same way.
        page.goto("/pricing/")
        assert page.locator("#upgrade-pro").count() == 0  # subscribed: plan changes go to the portal
        _follow(page, watch, "#buy-pack_100", f"{fake.url}/checkout/**", "buy a pack")
        _follow(page, watch, "#pay", "**/credits/", "back from checkout")
        _wait_for(lambda: _balance(page) == FREE + PRO + PACK, "the pack's credits")
        invoice_links = page.locator(".ledger-job a", has_text="Invoice")
        assert invoice_links.count() == 2 and invoice_links.first.get_attribute("href").startswith(fake.url)
        shot("credit-history", "credit history")

        page.goto("/account/")
        assert page.locator("#current-plan").inner_text() == "Pro plan"
        assert "renews on" in page.locator("#plan").inner_text()
        page.locator("#plan").scroll_into_view_if_needed()
        shot("account-plan", "account plan section")

        # The renewal fails: past due, with the banner and a way to the portal; the plan is kept for the grace days.
        customer = next(o["id"] for o in fake.objects.values() if o["object"] == "customer" and o["email"] == email)
        subscription = fake.subscriptions_of(customer)[0]["id"]
        fake.renew(subscription, paid=False)
        page.goto("/account/")
        banner = page.locator("#past-due")
        assert banner.is_visible() and "billing portal" in banner.inner_text()
        assert page.locator("#current-plan").inner_text() == "Pro plan"
        shot("past-due", "past-due banner")
        fake.renew(subscription)  # the card was updated and the retry paid
        page.goto("/account/")
        assert page.locator("#past-due").count() == 0

        # The portal cancels at the period's end; the plan stays until then.
        _follow(page, watch, "#manage-billing", f"{fake.url}/portal/**", "open the portal")
        page.locator("#cancel-plan").click()
        assert "cancels at the end of the period" in page.locator("#state").inner_text()
        page.locator("#return").click()
        page.wait_for_url("**/account/")
        assert page.locator("#plan-ends").is_visible()
        assert page.locator("#current-plan").inner_text() == "Pro plan"

        # The period ends (the fake's test clock): the subscription is deleted and the account is on Free.
        _follow(page, watch, "#manage-billing", f"{fake.url}/portal/**", "open the portal")
        page.locator("#end-period").click()
        page.locator("#return").click()
        page.wait_for_url("**/account/")
        assert page.locator("#current-plan").inner_text() == "Free plan"
        assert page.locator("#plan-ends").count() == 0
        watch.check("after the downgrade")
        # Every webhook was accepted; none was refused or failed.
        assert fake.deliveries and all(status == 200 for _, status in fake.deliveries), fake.deliveries
    finally:
        context.close()
