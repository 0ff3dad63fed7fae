"""A local Stripe: the parts of the v1 API Intaglio calls, hosted Checkout and Portal pages, and signed webhooks.

    with FakeStripe(webhook_url=live_server.url + "/hooks/stripe/") as fake:
        settings.STRIPE_API_KEY, settings.STRIPE_WEBHOOK_SECRET = fake.api_key, fake.webhook_secret
        settings.STRIPE_API_BASE = fake.url
        settings.SUBPROCESSORS = [fake.subprocessor()]
        ...
        fake.complete_checkout(session_id)   # as if the customer paid: state changes, events are sent

Constructor: `FakeStripe(api_key="sk_test_fake", webhook_secret="whsec_fake", *, prices=None, webhook_url=None,
deliver=True)`. `prices` maps price ids to `{"recurring": bool, "unit_amount": int, "currency": str}`
(`prices_from_settings()` builds it from PLAN_PRICES and CREDIT_PACKS). With `deliver` off, events are only
recorded (`fake.events`) and the caller sends them with `fake.deliver(event, timestamp=…, secret=…)`, in any order.

The API as Stripe documents it, and nothing else:

- Requests are form-encoded (`a[b][0][c]=…`), authenticated with `Authorization: Bearer <secret key>` (401
  otherwise), and every POST carries an `Idempotency-Key` of at most 255 characters (400 otherwise; a strictness of
  this fake, as Intaglio promises to send one). The same key with other parameters is an `idempotency_error`; with
  the same parameters the first reply is replayed (`Idempotent-Replayed: true`).
- `POST /v1/customers`, `POST /v1/checkout/sessions`, `GET /v1/checkout/sessions/{id}`,
  `GET /v1/checkout/sessions?payment_intent=`, `POST /v1/billing_portal/sessions`, `GET /v1/subscriptions/{id}`,
  `GET /v1/invoices/{id}`, `GET /v1/invoice_payments?payment[…]`, `GET /v1/charges/{id}`, `GET /v1/disputes/{id}`.
  An unknown parameter, an unknown `expand`, a missing required one or anything that looks like card data is a 400
  in Stripe's error shape `{"error": {"type": "invalid_request_error", "message", "param"}}`; an unknown id is a
  404 `resource_missing`; any other path is a 404.
- Objects have the shapes of API version `API_VERSION` (the `stripe` library's own, checked field by field against
  its type stubs): an invoice's subscription is at `parent.subscription_details.subscription`, its line's price at
  `pricing.price_details.price`, its payments in `payments` (only when expanded); a subscription's period is on its
  items (`items.data[].current_period_end`), and cancelling at the period's end also sets `cancel_at`. A request
  that names another `Stripe-Version` is refused, so a library upgrade that changes the version is noticed here
  before the shapes drift.

Hosted pages (what the browser sees): `/checkout/{id}` (Pay or Cancel, then a 303 to the success or cancel URL),
`/portal/{id}` (cancel at period end, end the period now, back to the site) and `/invoices/{id}`.

Webhooks are signed as Stripe signs them: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`,
computed here (not with the library the product uses to check them).

Run on its own for `script/server`: `python -m tests.fakes.stripe --port 12111 --webhook URL`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import itertools
import json
import re
import secrets
import threading
import time
import urllib.request
from urllib.parse import parse_qsl

from tests.fakes import FakeHTTPServer, Recorded, Reply

API_VERSION = "2026-10-28.endive"
CARD_LIKE = re.compile(r"card|cvc|cvv|exp_month|exp_year|\bnumber\b|pan\b", re.I)
PERIOD_SECONDS = 30 * 24 * 3600


def prices_from_settings(settings) -> dict[str, dict]:
    """Prices for every plan and pack id the settings name: monthly plans recur, packs are paid once."""
    prices = {}
    for index, price in enumerate(settings.PLAN_PRICES.values()):
        prices[price["stripe_price"]] = {"recurring": True, "unit_amount": 1200 + 3700 * index, "currency": "eur"}
    for index, price in enumerate(settings.CREDIT_PACKS.values()):
        prices[price["stripe_price"]] = {"recurring": False, "unit_amount": 500 + 1500 * index, "currency": "eur"}
    return prices


def parse_form(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (`line_items[0][price]=p`) into nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        if not parts or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*(\[[^\[\]]*\])*", key):
            raise ValueError(f"malformed parameter {key!r}")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"parameter {key!r} mixes a value and a hash")
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        node = {key: _lists(value) for key, value in node.items()}
        if node and all(key.isdigit() for key in node):
            return [node[key] for key in sorted(node, key=int)]
    return node


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The Stripe-Signature header for a payload."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None, kind="invalid_request_error", code=None):
        super().__init__(message)
        self.status, self.message, self.param, self.kind, self.code = status, message, param, kind, code

    def reply(self) -> Reply:
        error = {"type": self.kind, "message": self.message}
        if self.param:
            error["param"] = self.param
        if self.code:
            error["code"] = self.code
        return Reply.json(self.status, {"error": error})


class FakeStripe(FakeHTTPServer):
    name = "Stripe"
    FAULTS = frozenset({"status_500", "status_429"})

    def __init__(
        self,
        api_key: str = "sk_test_fake",
        webhook_secret: str = "whsec_fake",
        *,
        prices: dict[str, dict] | None = None,
        webhook_url: str | None = None,
        deliver: bool = True,
        port: int = 0,
    ):
        super().__init__()
        if port:  # a fixed port (script/server): rebind
            self._server.server_close()
            from tests.fakes import _Handler, _Server

            self._server = _Server(("127.0.0.1", port), _Handler)
            self._server.fake = self
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
        self.api_key, self.webhook_secret = api_key, webhook_secret
        self.prices = prices if prices is not None else {}
        self.webhook_url, self.auto_deliver = webhook_url, deliver
        self.objects: dict[str, dict] = {}
        self.events: list[dict] = []
        self.deliveries: list[tuple[str, int]] = []  # (event id, HTTP status)
        self._idempotency: dict[str, tuple[str, Reply]] = {}
        self._counter = itertools.count(1)

    # --- ids and objects ---

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._counter):06d}{secrets.token_hex(4)}"

    def _get(self, object_id: str, kind: str) -> dict:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise StripeError(404, f"No such {kind}: '{object_id}'", param="id", code="resource_missing")
        return obj

    def _price(self, price_id: str) -> dict:
        price = self.prices.get(price_id)
        if price is None:
            raise StripeError(
                400, f"No such price: '{price_id}'", param="line_items[0][price]", code="resource_missing"
            )
        return {
            "id": price_id,
            "object": "price",
            "active": True,
            "livemode": False,
            "product": f"prod_{price_id}",
            "currency": price["currency"],
            "unit_amount": price["unit_amount"],
            "type": "recurring" if price["recurring"] else "one_time",
            "recurring": (
                {"interval": "month", "interval_count": 1, "usage_type": "licensed", "meter": None}
                if price["recurring"]
                else None
            ),
        }

    # --- HTTP ---

    def handle(self, request: Recorded) -> Reply:
        path = request.path.rstrip("/")
        try:
            if path.startswith("/v1/"):
                return self._api(request, path)
            return self._page(request, path)
        except StripeError as error:
            return error.reply()

    def _api(self, request: Recorded, path: str) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            raise StripeError(401, "Invalid API Key provided.")
        version = request.headers.get("stripe-version")
        if version and version != API_VERSION:
            raise StripeError(400, f"This local Stripe serves the shapes of API version {API_VERSION}, not {version}.")
        if self._take("status_500"):
            return Reply.json(500, {"error": {"type": "api_error", "message": "An unknown error occurred"}})
        if self._take("status_429"):
            return Reply.json(429, {"error": {"type": "rate_limit_error", "message": "Too many requests"}})
        raw = (
            request.body.decode()
            if request.method == "POST"
            else "&".join(f"{key}={value}" for key, values in request.query.items() for value in values)
        )
        form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if request.method == "POST" and request.body and not form:
            raise StripeError(400, "Requests must be form-encoded (application/x-www-form-urlencoded).")
        try:
            pairs = (
                parse_qsl(raw, keep_blank_values=True)
                if request.method == "POST"
                else [(key, value) for key, values in request.query.items() for value in values]
            )
            params = parse_form(pairs)
        except ValueError as exc:
            raise StripeError(400, str(exc)) from None
        for key, _ in pairs:
            if CARD_LIKE.search(key):
                raise StripeError(400, f"Card details may not be sent to this endpoint: {key}", param=key)
        if request.method == "POST":
            key = request.headers.get("idempotency-key") or ""
            if not key or len(key) > 255:
                raise StripeError(400, "An Idempotency-Key header of 1 to 255 characters is required.")
            fingerprint = f"{path}?{raw}"
            with self._lock:
                seen = self._idempotency.get(key)
            if seen is not None:
                if seen[0] != fingerprint:
                    raise StripeError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        "used with.",
                        kind="idempotency_error",
                    )
                replay = seen[1]
                return Reply(replay.status, replay.body, replay.content_type, {"Idempotent-Replayed": "true"})
            reply = self._route(request.method, path, params)
            with self._lock:
                self._idempotency[key] = (fingerprint, reply)
            return reply
        return self._route(request.method, path, params)

    def _route(self, method: str, path: str, params: dict) -> Reply:
        routes = [
            ("POST", r"/v1/customers", self._customer_create),
            ("POST", r"/v1/checkout/sessions", self._session_create),
            ("GET", r"/v1/checkout/sessions", self._session_list),
            ("GET", r"/v1/checkout/sessions/(?P<id>[\w]+)", self._session_get),
            ("POST", r"/v1/billing_portal/sessions", self._portal_create),
            ("GET", r"/v1/subscriptions/(?P<id>[\w]+)", self._subscription_get),
            ("GET", r"/v1/invoices/(?P<id>[\w]+)", self._invoice_get),
            ("GET", r"/v1/invoice_payments", self._invoice_payment_list),
            ("GET", r"/v1/charges/(?P<id>[\w]+)", self._charge_get),
            ("GET", r"/v1/disputes/(?P<id>[\w]+)", self._dispute_get),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                with self._lock:
                    return Reply.json(200, handler(params, **match.groupdict()))
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    @staticmethod
    def _allow(params: dict, allowed: set[str], required: set[str] = frozenset()) -> None:
        for key in params:
            if key not in allowed:
                raise StripeError(400, f"Received unknown parameter: {key}", param=key)
        for key in required:
            if params.get(key) in (None, ""):
                raise StripeError(400, f"Missing required param: {key}.", param=key)

    @staticmethod
    def _expand(params: dict, allowed: set[str]) -> set[str]:
        expand = params.get("expand") or []
        if not isinstance(expand, list):
            raise StripeError(400, "Invalid array", param="expand")
        for path in expand:
            if path not in allowed:
                raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        return set(expand)

    # --- API objects ---

    def _customer_create(self, params: dict) -> dict:
        self._allow(params, {"email", "metadata", "name", "description"})
        customer = {
            "id": self._new_id("cus"),
            "object": "customer",
            "email": params.get("email"),
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
            "livemode": False,
        }
        self.objects[customer["id"]] = customer
        return customer

    def _session_create(self, params: dict) -> dict:
        self._allow(
            params,
            {
                "mode", "customer", "line_items", "success_url", "cancel_url", "metadata", "subscription_data",
                "payment_intent_data", "invoice_creation", "client_reference_id", "allow_promotion_codes",
            },
            {"mode", "line_items", "success_url"},
        )  # fmt: skip
        mode = params["mode"]
        if mode not in ("payment", "subscription", "setup"):
            raise StripeError(400, f"Invalid mode: {mode}", param="mode")
        if params.get("customer"):
            self._get(params["customer"], "customer")
        items = params["line_items"]
        if not isinstance(items, list) or not items:
            raise StripeError(400, "line_items must be a non-empty array", param="line_items")
        for index, item in enumerate(items):
            if not isinstance(item, dict) or set(item) - {"price", "quantity"} or "price" not in item:
                raise StripeError(400, "Each line item needs a price (and a quantity)", param=f"line_items[{index}]")
        price = self._price(items[0]["price"])
        if (price["type"] == "recurring") != (mode == "subscription"):
            raise StripeError(
                400,
                "You must provide at least one recurring price in `subscription` mode"
                if mode == "subscription"
                else "You specified `payment` mode but passed a recurring price.",
                param="line_items[0][price]",
            )
        if mode == "subscription" and "payment_intent_data" in params:
            raise StripeError(
                400, "payment_intent_data cannot be used in subscription mode", param="payment_intent_data"
            )
        if mode == "subscription" and "invoice_creation" in params:
            raise StripeError(400, "invoice_creation can only be used in payment mode", param="invoice_creation")
        if mode == "payment" and "subscription_data" in params:
            raise StripeError(400, "subscription_data can only be used in subscription mode", param="subscription_data")
        quantity = int(items[0].get("quantity") or 1)
        session = {
            "id": self._new_id("cs"),
            "object": "checkout.session",
            "mode": mode,
            "status": "open",
            "payment_status": "unpaid",
            "customer": params.get("customer"),
            "url": f"{self.origin}/checkout/{{id}}",
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "amount_total": price["unit_amount"] * quantity,
            "currency": price["currency"],
            "metadata": params.get("metadata") or {},
            "subscription": None,
            "payment_intent": None,
            "invoice": None,
            # Stripe's shape: {"enabled", "invoice_data"} in payment mode, null in subscription mode.
            "invoice_creation": (
                {"enabled": (params.get("invoice_creation") or {}).get("enabled") == "true", "invoice_data": {}}
                if mode == "payment"
                else None
            ),
            "created": int(time.time()),
            "livemode": False,
            "_price": price["id"],
            "_quantity": quantity,
        }
        session["url"] = session["url"].replace("{id}", session["id"])
        self.objects[session["id"]] = session
        return self._public(session)

    def _session_view(self, session: dict, expand: set[str], prefix: str = "") -> dict:
        view = self._public(session)
        if f"{prefix}line_items" in expand:
            view["line_items"] = {
                "object": "list",
                "data": [
                    {
                        "id": f"li_{session['id'][3:]}",
                        "object": "item",
                        "price": self._price(session["_price"]),
                        "quantity": session["_quantity"],
                        "currency": session["currency"],
                        "description": session["_price"],
                        "amount_subtotal": session["amount_total"],
                        "amount_discount": 0,
                        "amount_tax": 0,
                        "amount_total": session["amount_total"],
                    }
                ],
                "has_more": False,
            }
        if f"{prefix}invoice" in expand and session["invoice"]:
            view["invoice"] = self._invoice_view(self.objects[session["invoice"]], set())
        return view

    def _session_get(self, params: dict, id: str) -> dict:  # noqa: A002 - the route's name
        self._allow(params, {"expand"})
        return self._session_view(self._get(id, "checkout.session"), self._expand(params, {"line_items", "invoice"}))

    def _session_list(self, params: dict) -> dict:
        self._allow(params, {"payment_intent", "customer", "limit", "expand"})
        expand = self._expand(params, {"data.line_items", "data.invoice"})
        found = [
            obj
            for obj in self.objects.values()
            if obj["object"] == "checkout.session"
            and (not params.get("payment_intent") or obj["payment_intent"] == params["payment_intent"])
            and (not params.get("customer") or obj["customer"] == params["customer"])
        ]
        data = [self._session_view(obj, expand, "data.") for obj in found]
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/checkout/sessions"}

    def _portal_create(self, params: dict) -> dict:
        self._allow(params, {"customer", "return_url", "configuration", "flow_data", "locale"}, {"customer"})
        self._get(params["customer"], "customer")
        portal = {
            "id": self._new_id("bps"),
            "object": "billing_portal.session",
            "customer": params["customer"],
            "return_url": params.get("return_url"),
            "created": int(time.time()),
            "livemode": False,
        }
        portal["url"] = f"{self.origin}/portal/{portal['id']}"
        self.objects[portal["id"]] = portal
        return dict(portal)

    def _subscription_get(self, params: dict, id: str) -> dict:  # noqa: A002
        self._allow(params, {"expand"})
        self._expand(params, set())
        return self._public(self._get(id, "subscription"))

    def _invoice_view(self, invoice: dict, expand: set[str]) -> dict:
        view = self._public(invoice)
        if "payments" in expand:
            view["payments"] = {"object": "list", "data": [dict(p) for p in invoice["_payments"]], "has_more": False}
        return view

    def _invoice_get(self, params: dict, id: str) -> dict:  # noqa: A002
        self._allow(params, {"expand"})
        return self._invoice_view(self._get(id, "invoice"), self._expand(params, {"payments"}))

    def _invoice_payment_list(self, params: dict) -> dict:
        self._allow(params, {"payment", "invoice", "limit", "status", "expand"})
        self._expand(params, set())
        wanted = params.get("payment") or {}
        # payment[type] is required whenever payment is given; this fake links payment intents only.
        if wanted and (set(wanted) - {"type", "payment_intent"} or wanted.get("type") != "payment_intent"):
            raise StripeError(400, "payment[type] must be payment_intent with payment[payment_intent]", param="payment")
        data = [
            dict(p)
            for obj in self.objects.values()
            if obj["object"] == "invoice"
            for p in obj["_payments"]
            if not wanted or p["payment"]["payment_intent"] == wanted.get("payment_intent")
        ]
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/invoice_payments"}

    def _charge_get(self, params: dict, id: str) -> dict:  # noqa: A002
        self._allow(params, {"expand"})
        self._expand(params, set())
        return self._public(self._get(id, "charge"))

    def _dispute_get(self, params: dict, id: str) -> dict:  # noqa: A002
        self._allow(params, {"expand"})
        self._expand(params, set())
        return self._public(self._get(id, "dispute"))

    @staticmethod
    def _public(obj: dict) -> dict:
        return json.loads(json.dumps({key: value for key, value in obj.items() if not key.startswith("_")}))

    # --- what happens at Stripe (the customer pays, time passes, the bank calls) ---

    def _event(self, kind: str, obj: dict) -> dict:
        event = {
            "id": self._new_id("evt"),
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": kind,
            "data": {"object": self._public(obj)},
        }
        self.events.append(event)
        return event

    def _charge(self, customer: str, amount: int, currency: str) -> tuple[dict, dict]:
        intent = {"id": self._new_id("pi"), "object": "payment_intent", "amount": amount, "customer": customer,
                  "currency": currency, "status": "succeeded"}  # fmt: skip
        charge = {
            "id": self._new_id("ch"),
            "object": "charge",
            "amount": amount,
            "amount_refunded": 0,
            "currency": currency,
            "customer": customer,
            "payment_intent": intent["id"],
            "paid": True,
            "status": "succeeded",
            "refunded": False,
            "disputed": False,
            "created": int(time.time()),
            "livemode": False,
        }
        self.objects[intent["id"]] = intent
        self.objects[charge["id"]] = charge
        return intent, charge

    def _invoice(self, *, customer, amount, currency, reason, price, period, subscription=None, paid=True, intent=None):
        now = int(time.time())
        item = subscription["items"]["data"][0]["id"] if subscription else None
        subscription = subscription["id"] if subscription else None
        invoice = {
            "id": self._new_id("in"),
            "object": "invoice",
            "customer": customer,
            "status": "paid" if paid else "open",
            "billing_reason": reason,
            "amount_due": amount,
            "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount,
            "subtotal": amount,
            "total": amount,
            "currency": currency,
            "created": now,
            "livemode": False,
            "period_start": period[0],
            "period_end": period[1],
            "status_transitions": {"finalized_at": now, "paid_at": now if paid else None},
            "parent": (
                {
                    "type": "subscription_details",
                    "quote_details": None,
                    "subscription_details": {"subscription": subscription, "metadata": {}},
                }
                if subscription
                else None
            ),
            "lines": {
                "object": "list",
                "data": [
                    {
                        "id": self._new_id("il"),
                        "object": "line_item",
                        "amount": amount,
                        "currency": currency,
                        "quantity": 1,
                        "livemode": False,
                        "pricing": {
                            "type": "price_details",
                            "price_details": {"price": price, "product": f"prod_{price}"},
                            "unit_amount_decimal": str(amount),
                        },
                        "period": {"start": period[0], "end": period[1]},
                        "parent": (
                            {
                                "type": "subscription_item_details",
                                "invoice_item_details": None,
                                "subscription_item_details": {
                                    "subscription": subscription,
                                    "subscription_item": item,
                                    "proration": False,
                                    "proration_details": None,
                                    "invoice_item": None,
                                },
                            }
                            if subscription
                            else None
                        ),
                    }
                ],
                "has_more": False,
            },
            "_payments": [],
        }
        for line in invoice["lines"]["data"]:
            line["invoice"] = invoice["id"]
        invoice["hosted_invoice_url"] = f"{self.origin}/invoices/{invoice['id']}"
        if intent is not None:
            invoice["_payments"].append(
                {
                    "id": self._new_id("inpay"),
                    "object": "invoice_payment",
                    "invoice": invoice["id"],
                    "status": "paid",
                    "amount_paid": amount,
                    "amount_requested": amount,
                    "currency": currency,
                    "created": now,
                    "is_default": True,
                    "livemode": False,
                    "status_transitions": {"paid_at": now, "canceled_at": None},
                    "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
                }
            )
        self.objects[invoice["id"]] = invoice
        return invoice

    def complete_checkout(self, session_id: str) -> list[dict]:
        """The customer paid: a pack's payment (and its invoice), or a plan's subscription and first invoice."""
        with self._lock:
            session = self._get(session_id, "checkout.session")
            if session["status"] != "open":
                return []
            customer, amount, currency = session["customer"], session["amount_total"], session["currency"]
            intent, charge = self._charge(customer, amount, currency)
            events = []
            now = int(time.time())
            if session["mode"] == "payment":
                session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
                if session["invoice_creation"]["enabled"]:
                    invoice = self._invoice(
                        customer=customer, amount=amount, currency=currency, reason="manual", price=session["_price"],
                        period=(now, now), intent=intent,
                    )  # fmt: skip
                    session["invoice"] = invoice["id"]
            else:
                subscription_id = self._new_id("sub")
                subscription = {
                    "id": subscription_id,
                    "object": "subscription",
                    "customer": customer,
                    "status": "active",
                    "currency": currency,
                    "cancel_at": None,
                    "cancel_at_period_end": False,
                    "canceled_at": None,
                    "ended_at": None,
                    "latest_invoice": None,
                    "livemode": False,
                    "metadata": session["metadata"],
                    "items": {
                        "object": "list",
                        "data": [
                            {
                                "id": self._new_id("si"),
                                "object": "subscription_item",
                                "subscription": subscription_id,
                                "price": self._price(session["_price"]),
                                "quantity": 1,
                                "metadata": {},
                                "created": now,
                                "current_period_start": now,
                                "current_period_end": now + PERIOD_SECONDS,
                            }
                        ],
                        "has_more": False,
                    },
                    "created": now,
                    "start_date": now,
                }
                self.objects[subscription["id"]] = subscription
                session.update(status="complete", payment_status="paid", subscription=subscription["id"])
                invoice = self._invoice(
                    customer=customer, amount=amount, currency=currency, reason="subscription_create",
                    price=session["_price"], period=(now, now + PERIOD_SECONDS), subscription=subscription,
                    intent=intent,
                )  # fmt: skip
                # Subscription-mode sessions carry their first invoice too; the subscription its latest one.
                session["invoice"] = subscription["latest_invoice"] = invoice["id"]
                events.append(self._event("customer.subscription.created", subscription))
                events.append(self._event("invoice.paid", invoice))
            events.append(self._event("checkout.session.completed", session))
        self._send(events)
        return events

    def cancel_checkout(self, session_id: str) -> None:
        with self._lock:
            self._get(session_id, "checkout.session")["status"] = "expired"

    def renew(self, subscription_id: str, *, paid: bool = True) -> list[dict]:
        """The next period begins: a paid renewal invoice, or a failed one that leaves the subscription past due."""
        with self._lock:
            subscription = self._get(subscription_id, "subscription")
            item = subscription["items"]["data"][0]
            start = item["current_period_end"]
            price = item["price"]
            amount, currency = price["unit_amount"], price["currency"]
            intent = self._charge(subscription["customer"], amount, currency)[0] if paid else None
            invoice = self._invoice(
                customer=subscription["customer"], amount=amount, currency=currency, reason="subscription_cycle",
                price=price["id"], period=(start, start + PERIOD_SECONDS), subscription=subscription, paid=paid,
                intent=intent,
            )  # fmt: skip
            subscription["latest_invoice"] = invoice["id"]
            if paid:
                item.update(current_period_start=start, current_period_end=start + PERIOD_SECONDS)
                subscription["status"] = "active"
                events = [self._event("invoice.paid", invoice)]
            else:
                subscription["status"] = "past_due"
                events = [self._event("invoice.payment_failed", invoice)]
            events.append(self._event("customer.subscription.updated", subscription))
        self._send(events)
        return events

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool = True) -> list[dict]:
        with self._lock:
            subscription = self._get(subscription_id, "subscription")
            # Stripe sets cancel_at to the period's end alongside the flag, and clears both on resuming.
            subscription["cancel_at_period_end"] = cancel
            subscription["cancel_at"] = subscription["items"]["data"][0]["current_period_end"] if cancel else None
            subscription["canceled_at"] = int(time.time()) if cancel else None
            events = [self._event("customer.subscription.updated", subscription)]
        self._send(events)
        return events

    def change_price(self, subscription_id: str, price_id: str) -> list[dict]:
        with self._lock:
            subscription = self._get(subscription_id, "subscription")
            subscription["items"]["data"][0]["price"] = self._price(price_id)
            events = [self._event("customer.subscription.updated", subscription)]
        self._send(events)
        return events

    def end_subscription(self, subscription_id: str) -> list[dict]:
        """The period ended with cancellation due (or the subscription was cancelled now)."""
        with self._lock:
            subscription = self._get(subscription_id, "subscription")
            now = int(time.time())
            subscription.update(status="canceled", canceled_at=subscription["canceled_at"] or now, ended_at=now)
            events = [self._event("customer.subscription.deleted", subscription)]
        self._send(events)
        return events

    def refund(self, charge_id: str, amount: int | None = None) -> list[dict]:
        with self._lock:
            charge = self._get(charge_id, "charge")
            left = charge["amount"] - charge["amount_refunded"]
            charge["amount_refunded"] += min(left, amount if amount is not None else left)
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
            events = [self._event("charge.refunded", charge)]
        self._send(events)
        return events

    def dispute(self, charge_id: str) -> list[dict]:
        with self._lock:
            charge = self._get(charge_id, "charge")
            charge["disputed"] = True
            dispute = {"id": self._new_id("dp"), "object": "dispute", "charge": charge_id, "amount": charge["amount"],
                       "currency": charge["currency"], "payment_intent": charge["payment_intent"],
                       "status": "needs_response", "reason": "fraudulent", "created": int(time.time()),
                       "livemode": False}  # fmt: skip
            self.objects[dispute["id"]] = dispute
            events = [self._event("charge.dispute.created", dispute)]
        self._send(events)
        return events

    def charges_of(self, customer: str) -> list[dict]:
        with self._lock:
            return [dict(o) for o in self.objects.values() if o["object"] == "charge" and o["customer"] == customer]

    def subscriptions_of(self, customer: str) -> list[dict]:
        with self._lock:
            return [
                self._public(o)
                for o in self.objects.values()
                if o["object"] == "subscription" and o["customer"] == customer
            ]  # noqa: E501

    # --- webhooks ---

    def _send(self, events: list[dict]) -> None:
        if self.auto_deliver and self.webhook_url:
            for event in events:
                self.deliver(event)

    def deliver(self, event: dict, *, timestamp: int | None = None, secret: str | None = None, url=None) -> int:
        """POSTs an event to the webhook endpoint, signed (with another `secret` or `timestamp` to forge one)."""
        payload = json.dumps(event).encode()
        header = sign(payload, secret or self.webhook_secret, int(time.time()) if timestamp is None else timestamp)
        request = urllib.request.Request(  # noqa: S310 - loopback endpoint
            url or self.webhook_url,
            data=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": header, "User-Agent": "Stripe/1.0"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        with self._lock:
            self.deliveries.append((event["id"], status))
        return status

    # --- hosted pages ---

    def _page(self, request: Recorded, path: str) -> Reply:
        match = re.fullmatch(r"/(checkout|portal|invoices)/(\w+)(?:/(\w+))?", path)
        if not match:
            return Reply(404, b"not found", "text/plain")
        area, object_id, action = match.groups()
        if area == "invoices":
            with self._lock:
                invoice = self._get(object_id, "invoice")
            body = f"<h1>Invoice {html.escape(invoice['id'])}</h1><p>{invoice['amount_paid'] / 100:.2f} "
            body += f"{invoice['currency'].upper()} · {invoice['status']}</p>"
            return self._html(body)
        if area == "checkout":
            with self._lock:
                session = self._get(object_id, "checkout.session")
            if request.method == "POST" and action == "pay":
                self.complete_checkout(object_id)
                return self._redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", object_id))
            if request.method == "POST" and action == "cancel":
                self.cancel_checkout(object_id)
                return self._redirect(session["cancel_url"])
            what = "Subscribe" if session["mode"] == "subscription" else "Pay"
            body = (
                f"<h1>Test checkout</h1><p class='amount'>{session['amount_total'] / 100:.2f} "
                f"{session['currency'].upper()}{' a month' if session['mode'] == 'subscription' else ''}</p>"
                "<p>This local stand-in for Stripe takes no card: choose an outcome.</p>"
                f"<form method='post' action='/checkout/{object_id}/pay'><button id='pay'>{what}</button></form>"
                f"<form method='post' action='/checkout/{object_id}/cancel'><button id='cancel'>Cancel</button></form>"
            )
            return self._html(body)
        with self._lock:
            portal = self._get(object_id, "billing_portal.session")
            subscriptions = [
                s
                for s in self.objects.values()
                if s["object"] == "subscription" and s["customer"] == portal["customer"]
            ]
            live = next((s for s in subscriptions if s["status"] != "canceled"), None)
        if request.method == "POST" and live is not None and action == "cancel":
            self.set_cancel_at_period_end(live["id"])
            return self._redirect(f"/portal/{object_id}")
        if request.method == "POST" and live is not None and action == "end_period":
            if live["cancel_at_period_end"]:
                self.end_subscription(live["id"])
            else:
                self.renew(live["id"])
            return self._redirect(f"/portal/{object_id}")
        state = "No subscription"
        if live is not None:
            state = f"Subscription {live['status']}"
            state += ", cancels at the end of the period" if live["cancel_at_period_end"] else ", renews monthly"
        body = f"<h1>Test billing portal</h1><p id='state'>{html.escape(state)}</p>"
        if live is not None and not live["cancel_at_period_end"]:
            body += f"<form method='post' action='/portal/{object_id}/cancel'><button id='cancel-plan'>Cancel plan</button></form>"  # noqa: E501
        if live is not None:
            body += f"<form method='post' action='/portal/{object_id}/end_period'><button id='end-period'>End the period now (test clock)</button></form>"  # noqa: E501
        body += f"<p><a id='return' href='{html.escape(portal['return_url'] or '/')}'>Return to the site</a></p>"
        return self._html(body)

    @staticmethod
    def _html(body: str) -> Reply:
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
            "<link rel='icon' href='data:,'><title>Stripe (local)</title>"
            "<style>body{font:16px system-ui;max-width:32rem;margin:3rem auto;"
            "padding:0 1rem}button{font:inherit;padding:.6rem 1.2rem;margin:.3rem 0}</style></head>"
            f"<body>{body}</body></html>"
        )
        return Reply(200, page.encode(), "text/html; charset=utf-8")

    @staticmethod
    def _redirect(location: str) -> Reply:
        return Reply(303, b"", "text/plain", {"Location": location})


def main() -> None:  # pragma: no cover - script/server
    parser = argparse.ArgumentParser(description="A local Stripe for script/server")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook", required=True, help="where to send the signed events")
    parser.add_argument("--api-key", default="sk_test_local")
    parser.add_argument("--webhook-secret", default="whsec_local")
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings

    fake = FakeStripe(
        args.api_key, args.webhook_secret, prices=prices_from_settings(settings), webhook_url=args.webhook,
        port=args.port,
    )  # fmt: skip
    fake.start()
    print(f"Local Stripe on {fake.url}, webhooks to {args.webhook}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    main()
