"""Stripe webhooks in chaos: does every account end with the right credits and plan whatever Stripe sends, and how?

    python bench/billing_chaos.py                (--accounts 50 --seed 20 --db sqlite; --database-url for PostgreSQL)

A local Stripe (tests/fakes/stripe.py) plays 50 customers' lives: plans bought, renewed (some renewals failing, then
paid), credit packs bought, charges refunded in full or in part, disputed, subscriptions cancelled at period end and
ended. Every resulting event is then delivered to /hooks/stripe/ in a random order, with 20 % duplicates, replays
of already-handled events, some held back to the very end (delays), and forged (wrong secret) and stale (timestamp
older than 300 s) copies mixed in.

The truth is computed from the fake's final objects and the price table alone, never from Intaglio's code: credits
= the plan allowance of every paid subscription invoice + every paid pack − what each refunded charge bought
(pro rata) or all of it when disputed; balance = max(that, 0), debt = max(−that, 0); plan = the subscription's
when it is active or past due (within the grace period), else the default. Prints

    events=… deliveries=… accounts=50 mismatches=0 forged_accepted=0

and exits non-zero on any mismatch or accepted forgery. Times are printed, never judged.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's `queue` while this directory leads sys.path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--database-url", default="", help="a PostgreSQL URL (migrated here); SQLite by default")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="intaglio-billing-chaos-")
    os.environ["INTAGLIO_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intaglio.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["*"]

    from tests.fakes.stripe import FakeStripe, prices_from_settings, sign

    from intaglio.accounts.models import User
    from intaglio.billing.models import BillingAccount
    from intaglio.billing.services import checkout_start
    from intaglio.credits.selectors import credit_balance, credit_debt

    rng = random.Random(args.seed)
    fake = FakeStripe(prices=prices_from_settings(settings), deliver=False).start()
    settings.STRIPE_API_KEY, settings.STRIPE_WEBHOOK_SECRET = fake.api_key, fake.webhook_secret
    settings.STRIPE_API_BASE = fake.url
    settings.SUBPROCESSORS = [fake.subprocessor()]

    # --- the customers' lives, at Stripe ---
    started = time.perf_counter()
    users = [User.objects.create_user(email=f"chaos{i}@example.test", password="x" * 12) for i in range(args.accounts)]
    plans, packs = list(settings.PLAN_PRICES), list(settings.CREDIT_PACKS)
    for index, user in enumerate(users):
        attempt = iter(range(1000))

        def session_of(product, user=user, attempt=attempt):
            return checkout_start(user=user, product=product, attempt=str(next(attempt))).rsplit("/", 1)[-1]

        if index % 10 != 0:  # one account in ten never subscribes
            made = fake.complete_checkout(session_of(rng.choice(plans)))
            subscription = next(e["data"]["object"]["id"] for e in made if e["type"].startswith("customer.subscr"))
            for _ in range(rng.randint(4, 10)):
                fake.renew(subscription, paid=rng.random() > 0.2)
            if rng.random() < 0.3:
                fake.change_price(subscription, settings.PLAN_PRICES[rng.choice(plans)]["stripe_price"])
            if rng.random() < 0.5:
                fake.set_cancel_at_period_end(subscription)
                if rng.random() < 0.6:
                    fake.end_subscription(subscription)
        for _ in range(rng.randint(2, 5)):
            fake.complete_checkout(session_of(rng.choice(packs)))
        for charge in fake.charges_of(BillingAccount.objects.get(user=user).customer_id):
            roll = rng.random()
            if roll < 0.08:
                fake.refund(charge["id"])
            elif roll < 0.16:
                fake.refund(charge["id"], amount=rng.randint(1, charge["amount"]))
            elif roll < 0.21:
                fake.dispute(charge["id"])
    events = list(fake.events)
    lived = time.perf_counter() - started

    # --- the deliveries: shuffled, duplicated, replayed, delayed, forged, stale ---
    deliveries = [("genuine", event) for event in events]
    deliveries += [("genuine", event) for event in rng.sample(events, len(events) // 5)]  # 20 % duplicates
    forged = [("forged", event) for event in rng.sample(events, len(events) // 20)]
    stale = [("stale", event) for event in rng.sample(events, len(events) // 20)]
    deliveries += forged + stale
    rng.shuffle(deliveries)
    held = len(deliveries) // 10  # the first tenth is held back to the end (delays)
    deliveries = deliveries[held:] + deliveries[:held]
    replays = [("genuine", event) for _, event in rng.sample(deliveries[: len(deliveries) // 2], len(events) // 20)]
    deliveries += replays  # events already handled, sent again later

    client = Client()
    forged_accepted = 0
    failures = 0
    started = time.perf_counter()
    for how, event in deliveries:
        payload = json.dumps(event).encode()
        now = int(time.time())
        header = {
            "genuine": lambda p=payload, n=now: sign(p, fake.webhook_secret, n),
            "forged": lambda p=payload, n=now: sign(p, "whsec_forged", n),
            "stale": lambda p=payload, n=now: sign(p, fake.webhook_secret, n - 400),
        }[how]()
        response = client.post("/hooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
        if how != "genuine" and response.status_code < 300:
            forged_accepted += 1
        elif how == "genuine" and response.status_code != 200:
            failures += 1
    delivered = time.perf_counter() - started

    # --- the truth, from Stripe's objects and the price table ---
    price_plan = {price["stripe_price"]: plan for plan, price in settings.PLAN_PRICES.items()}
    price_pack = {price["stripe_price"]: pack for pack, price in settings.CREDIT_PACKS.items()}
    mismatches = 0
    for user in users:
        customer = BillingAccount.objects.get(user=user).customer_id
        objects = [o for o in fake.objects.values() if o.get("customer") == customer]
        bought: dict[str, int] = {}  # payment intent -> credits
        for obj in objects:
            if obj["object"] == "invoice" and obj["status"] == "paid" and obj["billing_reason"] != "manual":
                price = obj["lines"]["data"][0]["pricing"]["price_details"]["price"]
                intent = obj["_payments"][0]["payment"]["payment_intent"]
                bought[intent] = settings.PLANS[price_plan[price]]["monthly_credits"]
            if obj["object"] == "checkout.session" and obj["mode"] == "payment" and obj["payment_status"] == "paid":
                bought[obj["payment_intent"]] = settings.CREDIT_PACKS[price_pack[obj["_price"]]]["credits"]
        net = sum(bought.values())
        for obj in objects:
            if obj["object"] == "charge" and obj["payment_intent"] in bought:
                credits = bought[obj["payment_intent"]]
                net -= credits if obj["disputed"] else credits * obj["amount_refunded"] // obj["amount"]
        subscription = next((o for o in objects if o["object"] == "subscription"), None)
        plan = settings.DEFAULT_PLAN
        if subscription and subscription["status"] in ("active", "trialing", "past_due"):
            plan = price_plan[subscription["items"]["data"][0]["price"]["id"]]
        user.refresh_from_db()
        got = (credit_balance(user=user), credit_debt(user=user), user.plan)
        want = (max(net, 0), max(-net, 0), plan)
        if got != want:
            mismatches += 1
            print(f"mismatch {user.email}: got {got}, want {want}", file=sys.stderr)
    fake.close()
    print(
        f"events={len(events)} deliveries={len(deliveries)} accounts={len(users)} mismatches={mismatches} "
        f"forged_accepted={forged_accepted} rejected_genuine={failures} "
        f"(forged={len(forged)} stale={len(stale)} duplicates={len(events) // 5} replays={len(replays)}; "
        f"lives {lived:.1f} s, deliveries {delivered:.1f} s, {1000 * delivered / len(deliveries):.1f} ms each)"
    )
    return 1 if mismatches or forged_accepted or failures else 0


if __name__ == "__main__":
    sys.exit(main())
