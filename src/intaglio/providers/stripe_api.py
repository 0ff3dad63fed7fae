"""Payments through Stripe's API, with the official `stripe` library (never hand-written HTTP).

What we call, and nothing else:

- `POST /v1/customers` (the account's e-mail, and an opaque reference in metadata);
- `POST /v1/checkout/sessions` (`mode=subscription` for a plan, `mode=payment` for a credit pack);
- `POST /v1/billing_portal/sessions` (cards, invoices, plan changes and cancellation, on Stripe's pages);
- reads of the objects webhooks are about: `GET /v1/checkout/sessions/{id}` (with `line_items`),
  `/v1/checkout/sessions?payment_intent=…`, `/v1/subscriptions/{id}`, `/v1/invoices/{id}` (with `payments`),
  `/v1/invoice_payments?payment[type]=payment_intent&payment[payment_intent]=…`, `/v1/charges/{id}`,
  `/v1/disputes/{id}`.

Every write carries an Idempotency-Key (at most 255 characters) derived from what it is for, so a retried request
never makes a second customer or session. The library's `api_base` (settings.STRIPE_API_BASE) is the only address;
its HTTP client is `core.egress.outbound_session()`, so only the registered Stripe host is reached. Webhook
signatures are checked by `stripe.Webhook.construct_event` on the raw body with a 300 s tolerance.

Card details never pass through here: Checkout and the Portal are Stripe's hosted pages (J31).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from intaglio.core.egress import outbound_session
from intaglio.providers.base import ProviderRefused, ProviderUnavailable, WebhookRejected

log = logging.getLogger("intaglio.providers")

BUSY = "The payment service is busy or unreachable at the moment. Please try again in a minute."
REFUSED = "The payment service refused the request."
IDEMPOTENCY_KEY_MAX = 255


def payments_configured() -> bool:
    """Payments are on when an API key is set (the webhook secret is checked when a webhook arrives)."""
    return bool(settings.STRIPE_API_KEY)


def _idempotency_key(key: str) -> str:
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise ValueError(f"an idempotency key has 1 to {IDEMPOTENCY_KEY_MAX} characters")
    return key


class StripePayments:
    """The calls Intaglio makes to Stripe. Objects come back as plain dicts (`to_dict()` of the library's objects)."""

    def __init__(self, *, api_key: str | None = None, api_base: str | None = None):
        api_key = api_key if api_key is not None else settings.STRIPE_API_KEY
        if not api_key:
            raise ImproperlyConfigured("STRIPE_API_KEY is not set: payments are not configured")
        http = stripe.RequestsClient(session=outbound_session(), timeout=settings.STRIPE_TIMEOUT_SECONDS)
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base or settings.STRIPE_API_BASE},
            http_client=http,
            max_network_retries=2,
        )

    # --- writes ---

    def customer_create(self, *, email: str, account_ref: str) -> str:
        """Creates the Stripe customer for an account; returns its id."""
        customer = self._call(
            self.client.v1.customers.create,
            {"email": email, "metadata": {"account": account_ref}},
            key=f"customer:{account_ref}",
        )
        return customer["id"]

    def checkout_create(
        self, *, customer: str, mode: str, price: str, success_url: str, cancel_url: str, key: str, metadata: dict
    ) -> dict:
        """A hosted Checkout session for one price; returns {"id", "url"}."""
        if mode not in ("subscription", "payment"):
            raise ValueError("mode is 'subscription' or 'payment'")
        params: dict[str, Any] = {
            "mode": mode,
            "customer": customer,
            "line_items": [{"price": price, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": metadata,
        }
        if mode == "subscription":
            params["subscription_data"] = {"metadata": metadata}
        else:
            params["payment_intent_data"] = {"metadata": metadata}
            # A receipt with a hosted invoice page, linked from the credit history.
            params["invoice_creation"] = {"enabled": True}
        session = self._call(self.client.v1.checkout.sessions.create, params, key=key)
        return {"id": session["id"], "url": session["url"]}

    def portal_create(self, *, customer: str, return_url: str, key: str) -> str:
        """A Customer Portal session; returns its URL."""
        portal = self._call(
            self.client.v1.billing_portal.sessions.create, {"customer": customer, "return_url": return_url}, key=key
        )
        return portal["url"]

    # --- reads (the current state of what an event is about) ---

    def checkout_session(self, session_id: str) -> dict:
        return self._call(self.client.v1.checkout.sessions.retrieve, session_id, {"expand": ["line_items", "invoice"]})

    def checkout_sessions_for_payment(self, payment_intent: str) -> list[dict]:
        listing = self._call(
            self.client.v1.checkout.sessions.list,
            {"payment_intent": payment_intent, "expand": ["data.line_items", "data.invoice"]},
        )
        return listing["data"]

    def subscription(self, subscription_id: str) -> dict:
        return self._call(self.client.v1.subscriptions.retrieve, subscription_id)

    def invoice(self, invoice_id: str) -> dict:
        return self._call(self.client.v1.invoices.retrieve, invoice_id, {"expand": ["payments"]})

    def invoice_payments_for(self, payment_intent: str) -> list[dict]:
        listing = self._call(
            self.client.v1.invoice_payments.list,
            {"payment": {"type": "payment_intent", "payment_intent": payment_intent}},
        )
        return listing["data"]

    def charge(self, charge_id: str) -> dict:
        return self._call(self.client.v1.charges.retrieve, charge_id)

    def dispute(self, dispute_id: str) -> dict:
        return self._call(self.client.v1.disputes.retrieve, dispute_id)

    # --- plumbing ---

    def _call(self, method, *args, key: str | None = None) -> dict:
        options = {"idempotency_key": _idempotency_key(key)} if key is not None else None
        try:
            result = method(*args, options=options) if options else method(*args)
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise ProviderUnavailable(BUSY) from exc
        except stripe.StripeError as exc:
            status = getattr(exc, "http_status", None) or 0
            log.warning("stripe.refused", extra={"status": status, "code": getattr(exc, "code", None)})
            if status >= 500 or status in (408, 409):
                raise ProviderUnavailable(BUSY) from exc
            raise ProviderRefused(REFUSED) from exc
        return result.to_dict()


def webhook_event(*, payload: bytes, signature: str | None) -> dict:
    """The verified event as a dict. Raises WebhookRejected for a bad or stale signature, ImproperlyConfigured when
    no signing secret is set."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET is not set")
    if not signature:
        raise WebhookRejected("missing Stripe-Signature header")
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected("invalid or stale signature") from exc
    except ValueError as exc:
        raise WebhookRejected("unreadable payload") from exc
    # The library refuses only old timestamps; one from the future beyond the same window is refused too.
    stamps = [part[2:] for part in signature.split(",") if part.startswith("t=")]
    if (
        not stamps
        or not stamps[0].isdigit()
        or int(stamps[0]) > time.time() + settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    ):
        raise WebhookRejected("invalid or stale signature")
    return event.to_dict()
