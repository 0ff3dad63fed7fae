"""Payments and privacy: no card detail anywhere (J31), billing records kept, exported and pseudonymised (J22),
Stripe registered as a sub-processor that egress alone lets through (J12)."""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from intaglio.billing.models import BillingAccount, Payment, StripeEvent
from intaglio.billing.services import checkout_start
from intaglio.core.egress import EgressRefused, check_outbound_url
from intaglio.credits.models import LedgerEntry
from intaglio.privacy import rights
from intaglio.providers.base import ProviderUnavailable
from intaglio.providers.stripe_api import StripePayments
from tests.billing.conftest import post_event
from tests.factories import make_user
from tests.privacy.test_clauses import _is_card_name, settings_under

pytestmark = pytest.mark.django_db

# What a real charge event carries about the card: none of it may stay anywhere on our side.
CARD_DETAILS = {
    "brand": "visa",
    "last4": "4242",
    "exp_month": 12,
    "exp_year": 2031,
    "fingerprint": "Xt5EWLLDS7FJjR1c",
    "country": "NL",
}
CARD_MARKERS = ("4242", "Xt5EWLLDS7FJjR1c", "exp_month", "last4", "fingerprint")


def _paid_pack(fake, user, attempt="1"):
    session = checkout_start(user=user, product="pack_100", attempt=attempt).rsplit("/", 1)[-1]
    return fake.complete_checkout(session)


def _all_rows_text() -> str:
    """Every row of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the schema itself
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


def test_J31_no_billing_model_has_a_card_field():
    billing = [model for model in apps.get_models() if model._meta.app_label in ("billing", "credits")]
    assert {m.__name__ for m in billing} >= {"BillingAccount", "Payment", "StripeEvent", "LedgerEntry"}
    found = [f"{m.__name__}.{f.name}" for m in billing for f in m._meta.get_fields() if _is_card_name(f.name)]
    assert found == []
    # The handled-event log keeps ids and types only, never a payload.
    assert {f.name for f in StripeEvent._meta.get_fields()} == {
        "id", "event_id", "type", "object_id", "outcome", "received_at",
    }  # fmt: skip


def test_J31_checkout_and_the_portal_are_stripes_pages_and_we_send_no_card_data(client, stripe_fake):
    user = make_user()
    client.force_login(user)
    response = client.post("/billing/checkout/pack_100/")
    assert response.status_code == 302 and response["Location"].startswith(f"{stripe_fake.url}/checkout/")
    stripe_fake.complete_checkout(response["Location"].rsplit("/", 1)[-1])
    response = client.post("/billing/portal/")
    assert response.status_code == 302 and response["Location"].startswith(f"{stripe_fake.url}/portal/")
    sent = [request for request in stripe_fake.requests if request.path.startswith("/v1/")]
    assert {request.path for request in sent} >= {"/v1/customers", "/v1/checkout/sessions"}
    for request in sent:
        names = re.findall(r"([\w\[\]]+)=", request.body.decode() + "&" + "&".join(request.query))
        assert [name for name in names if _is_card_name(name)] == [], request.path
    # Our pages have no card input either (test_J31_no_card_field_anywhere scans every template's inputs).
    page = client.get("/pricing/").content.decode()
    assert [name for name in re.findall(r'<input\b[^>]*\bname="([^"]+)"', page) if _is_card_name(name)] == []


def test_J31_the_fake_refuses_card_data_as_stripe_refuses_raw_card_numbers(stripe_fake):
    user = make_user()
    _paid_pack(stripe_fake, user)
    api = StripePayments()
    with pytest.raises(Exception):  # noqa: B017 - the adapter has no call that takes card data; send one raw
        api.client.v1.customers.create({"email": "a@example.test", "metadata": {"card_number": "4242424242424242"}},
                                       {"idempotency_key": "raw-card"})  # fmt: skip


def test_J31_a_webhook_carrying_card_details_leaves_none_of_them_in_the_database_or_the_logs(
    client, stripe_fake, caplog, capsys
):
    user = make_user()
    for event in _paid_pack(stripe_fake, user):
        post_event(client, event)
    charge = stripe_fake.charges_of(BillingAccount.objects.get(user=user).customer_id)[0]
    (refunded,) = stripe_fake.refund(charge["id"])
    refunded["data"]["object"]["payment_method_details"] = {"type": "card", "card": CARD_DETAILS}
    refunded["data"]["object"]["billing_details"] = {"name": "Jo Bloggs", "address": {"postal_code": "1011"}}
    with caplog.at_level(logging.DEBUG):
        assert post_event(client, refunded).status_code == 200
    assert LedgerEntry.objects.filter(user=user, kind="refund").exists()  # it was applied
    stored = _all_rows_text()
    logged = caplog.text + capsys.readouterr().out
    for marker in (*CARD_MARKERS, "Jo Bloggs", "1011"):
        assert marker not in stored, marker
        assert marker not in logged, marker
    assert StripeEvent.objects.get(event_id=refunded["id"]).object_id == charge["id"]


def test_J22_the_export_includes_billing_records(client, stripe_fake):
    user = make_user()
    for event in _paid_pack(stripe_fake, user):
        post_event(client, event)
    buffer = io.BytesIO()
    rights.export_write(fileobj=buffer, user_id=user.pk, purpose="test")
    with zipfile.ZipFile(buffer) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    sections = manifest["sections"]
    billing = sections["billing"]
    assert billing["retention_class"] == "billing"
    kinds = {record["record"] for record in billing["records"]}
    assert kinds == {"billing_account", "payment"}
    (payment,) = [r for r in billing["records"] if r["record"] == "payment"]
    assert payment["credits"] == 100 and payment["invoice_url"].startswith(stripe_fake.url)
    purchase = [r for r in sections["ledger_entries"]["records"] if r["kind"] == "purchase"]
    assert purchase and purchase[0]["invoice_url"] == payment["invoice_url"]


def test_J22_closure_keeps_billing_records_pseudonymised_for_the_billing_retention_period(client, stripe_fake):
    user = make_user()
    for event in _paid_pack(stripe_fake, user):
        post_event(client, event)
    user_id = user.pk
    rights.account_close(user=user)
    user.refresh_from_db()
    rights.accounts_purge_due(now=user.closed_at + timedelta(days=settings.RETENTION_ACCOUNT_AFTER_CLOSURE_DAYS))
    ref = rights.ledger_subject_ref(user_id)
    payment = Payment.objects.get()
    account = BillingAccount.objects.get()
    for row in (payment, account):
        assert row.user_id is None and row.subject_ref == ref and row.pseudonymised_at is not None
    assert LedgerEntry.objects.filter(subject_ref=ref, kind="purchase").exists()
    # Still there just before the billing period ends, gone after it.
    years = settings.RETENTION_LEDGER_YEARS
    assert rights.ledger_prune(now=rights.add_months(payment.created_at, 12 * years) - timedelta(hours=1)) == 0
    assert Payment.objects.exists()
    rights.ledger_prune(now=rights.add_months(payment.created_at, 12 * years) + timedelta(hours=1))
    assert not Payment.objects.exists() and not BillingAccount.objects.exists()


def test_J12_stripe_is_a_sub_processor_when_configured_and_egress_lets_only_its_api_host_through(tmp_path):
    off = settings_under(tmp_path)
    assert isinstance(off, dict), off.stderr
    assert all(entry["name"] != "Stripe" for entry in off["SUBPROCESSORS"])
    on = settings_under(tmp_path, STRIPE_API_KEY="sk_live_x", STRIPE_WEBHOOK_SECRET="whsec_x")
    assert isinstance(on, dict), on.stderr
    (stripe,) = [entry for entry in on["SUBPROCESSORS"] if entry["name"] == "Stripe"]
    assert stripe["hosts"] == ["api.stripe.com"]


def test_J12_the_notice_lists_stripe_and_egress_refuses_any_other_host(client, settings):
    settings.STRIPE_API_KEY = "sk_test_x"
    settings.SUBPROCESSORS = [
        {"name": "Stripe", "purpose": "Takes payments", "data": "E-mail and purchases", "region": "USA and EU",
         "hosts": ["api.stripe.com"]}
    ]  # fmt: skip
    assert "Stripe" in client.get("/privacy/").content.decode()
    check_outbound_url("https://api.stripe.com/v1/customers")
    for url in ("https://files.stripe.com/x", "https://api.stripe.com.evil.example/v1", "http://api.stripe.com/v1"):
        with pytest.raises(EgressRefused):
            check_outbound_url(url)


def test_J12_the_adapter_reaches_nothing_that_is_not_registered(stripe_fake, settings):
    settings.SUBPROCESSORS = []  # the fake's host is no longer registered
    with pytest.raises(ProviderUnavailable):
        StripePayments().customer_create(email="a@example.test", account_ref="ref")
    assert stripe_fake.requests == []
