"""The Stripe adapter and the local fake against the `stripe` library's own description of the API.

The library (16.x) declares every field of every object for its API version as class attributes, nested classes
in `_inner_class_types`. Every key the fake sends back, at any depth, must be one the library declares for that
object, and every field the billing code reads must be there: a shape written from memory fails here, not in
production.
"""

from __future__ import annotations

import importlib

import pytest
import stripe
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES

from intaglio.providers.stripe_api import StripePayments
from tests.fakes.stripe import API_VERSION, FakeStripe, prices_from_settings

# The fields billing.services reads, per object (a dotted path; lists are stepped through).
READ_PATHS = {
    "checkout.session": [
        "customer", "mode", "payment_status", "subscription", "payment_intent", "amount_total", "currency",
        "invoice.hosted_invoice_url", "line_items.data.price.id",
    ],
    "invoice": [
        "customer", "status", "billing_reason", "amount_paid", "currency", "hosted_invoice_url",
        "parent.subscription_details.subscription", "lines.data.pricing.price_details.price",
        "lines.data.period.start", "lines.data.period.end", "payments.data.payment.payment_intent",
    ],
    "subscription": [
        "customer", "status", "cancel_at_period_end", "cancel_at", "items.data.price.id",
        "items.data.current_period_end",
    ],
    "charge": ["customer", "payment_intent", "amount", "amount_refunded", "disputed"],
    "dispute": ["charge"],
    "invoice_payment": ["invoice", "payment.payment_intent"],
}  # fmt: skip


def _library_class(name: str):
    module, cls = OBJECT_CLASSES[name]
    return getattr(importlib.import_module(module), cls)


def _declared(cls) -> set[str]:
    names = {"object"} if cls is ListObject else set()  # a list's "object" is its OBJECT_NAME, not an attribute
    for klass in cls.__mro__:
        names |= set(getattr(klass, "__annotations__", {}))
    return names


def undeclared_fields(obj: dict, cls=None, where: str = "") -> list[str]:
    """Every key of `obj` (at any depth) that the library does not declare on the object it belongs to."""
    kind = obj.get("object")
    if kind == "list":
        cls = ListObject
    elif isinstance(kind, str):  # an event's `data` has its object under "object"
        cls = _library_class(kind)
    where = where or kind
    problems = [f"{where}.{key}" for key in obj if key not in _declared(cls)]
    inner = getattr(cls, "_inner_class_types", {})
    for key, value in obj.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, dict) and (isinstance(item.get("object"), str) or key in inner):
                problems += undeclared_fields(item, inner.get(key), f"{where}.{key}")
    return problems


def _at(obj, path: str) -> list:
    """The values at a dotted path, stepping through lists and {"object": "list"} wrappers."""
    found = [obj]
    for part in path.split("."):
        step = []
        for node in found:
            if isinstance(node, dict) and node.get("object") == "list" and part != "data":
                node = node["data"]
            for item in node if isinstance(node, list) else [node]:
                if isinstance(item, dict) and part in item:
                    step.append(item[part])
        found = step
    return found


@pytest.fixture
def fake(settings):
    with FakeStripe(prices=prices_from_settings(settings), deliver=False) as server:
        settings.STRIPE_API_KEY = server.api_key
        settings.STRIPE_API_BASE = server.url
        settings.SUBPROCESSORS = [server.subprocessor()]
        yield server


def _every_object(fake: FakeStripe, settings) -> dict[str, list[dict]]:
    """Buys a plan and a pack through the adapter, renews, fails a renewal, cancels, refunds and disputes in the
    fake, then reads back every object as the billing code does. Returns them by kind, event payloads included."""
    api = StripePayments()
    customer = api.customer_create(email="shape@example.com", account_ref="ref-shapes")
    seen: dict[str, list[dict]] = {}

    def keep(obj: dict) -> dict:
        seen.setdefault(obj["object"], []).append(obj)
        return obj

    plan = api.checkout_create(
        customer=customer, mode="subscription", price=settings.PLAN_PRICES["pro"]["stripe_price"],
        success_url="http://t/ok", cancel_url="http://t/no", key="shape-plan", metadata={"account": "ref-shapes"},
    )  # fmt: skip
    pack = api.checkout_create(
        customer=customer, mode="payment", price=settings.CREDIT_PACKS["pack_100"]["stripe_price"],
        success_url="http://t/ok", cancel_url="http://t/no", key="shape-pack", metadata={"account": "ref-shapes"},
    )  # fmt: skip
    events = fake.complete_checkout(plan["id"]) + fake.complete_checkout(pack["id"])
    subscription = keep(api.subscription(fake.subscriptions_of(customer)[0]["id"]))
    events += fake.renew(subscription["id"]) + fake.renew(subscription["id"], paid=False)
    events += fake.set_cancel_at_period_end(subscription["id"])
    charges = fake.charges_of(customer)
    events += fake.refund(charges[0]["id"], 100) + fake.dispute(charges[1]["id"])
    events += fake.end_subscription(subscription["id"])
    keep(api.subscription(subscription["id"]))
    for session_id in (plan["id"], pack["id"]):
        keep(api.checkout_session(session_id))
    for charge in charges:
        keep(api.charge(charge["id"]))
        for session in api.checkout_sessions_for_payment(charge["payment_intent"]):
            keep(session)
        for link in api.invoice_payments_for(charge["payment_intent"]):
            keep(link)
            keep(api.invoice(link["invoice"]))
    for event in events:
        keep(event)
        obj = event["data"]["object"]
        if obj["object"] == "dispute":
            keep(api.dispute(obj["id"]))
        elif obj["object"] == "invoice":
            keep(api.invoice(obj["id"]))
    return seen


def test_every_field_the_fake_sends_is_one_the_library_declares(fake, settings):
    seen = _every_object(fake, settings)
    assert {"event", "checkout.session", "subscription", "invoice", "invoice_payment", "charge", "dispute"} <= set(seen)
    problems = sorted({p for objects in seen.values() for obj in objects for p in undeclared_fields(obj)})
    assert problems == []


def test_every_field_the_billing_code_reads_is_in_the_fake_and_the_library(fake, settings):
    seen = _every_object(fake, settings)
    for kind, paths in READ_PATHS.items():
        for path in paths:
            values = [v for obj in seen[kind] for v in _at(obj, path)]
            # cancel_at and a pack's subscription are null on some objects, but the key is always sent.
            assert values, f"no {kind} from the fake has {path}"
            present = [v for v in values if v is not None]
            assert present or path in ("cancel_at", "subscription", "payment_intent"), f"{kind}.{path} always null"


def test_the_checker_catches_a_field_from_an_older_api_version():
    # Before 2025-03 an invoice named its subscription at the top level and a line its price under `price`.
    old_invoice = {
        "object": "invoice",
        "id": "in_1",
        "subscription": "sub_1",
        "lines": {"object": "list", "data": [{"object": "line_item", "id": "il_1", "price": {"id": "p"}}]},
    }
    assert undeclared_fields(old_invoice) == ["invoice.subscription", "invoice.lines.data.price"]


def test_the_fake_serves_the_library_s_api_version_and_refuses_another(fake):
    assert stripe.api_version == API_VERSION
    client = stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url}, stripe_version="2024-06-20")
    with pytest.raises(stripe.InvalidRequestError, match="API version"):
        client.v1.customers.create({"email": "x@example.com"}, {"idempotency_key": "old-version"})
