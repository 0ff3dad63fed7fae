"""Payments: starting Checkout and the Customer Portal, and applying Stripe's webhooks to plans and the ledger.

Webhooks arrive more than once and in any order. Each event is handled once (its id is recorded in the same
transaction as its effects), and an event is only a nudge: the handler reads the current state of the objects it is
about from Stripe and makes our records match it. Credits are keyed on Stripe's objects, not on events (a grant per
paid invoice, a purchase per paid Checkout session, refunds and reversals up to what the charge's current state
calls for), so any order of any set of deliveries ends in the same ledger. Credits are granted only here, never
from the success redirect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from intaglio.billing.models import BillingAccount, Payment, PaymentKind, PaymentStatus, StripeEvent
from intaglio.core.errors import Refused
from intaglio.credits.models import EntryKind, LedgerEntry
from intaglio.credits.services import credits_add, credits_take_back
from intaglio.providers.stripe_api import StripePayments, payments_configured, webhook_event

log = logging.getLogger("intaglio.billing")

# Subscription states in which the plan is in force (past_due too, for the grace period).
LIVE_STATUSES = ("active", "trialing")
GRANT_REASONS = ("subscription_create", "subscription_cycle")
HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "charge.refunded",
        "charge.dispute.created",
    }
)


class BillingRefused(Refused):
    pass


def _payments() -> StripePayments:
    return StripePayments()


def _when(stamp) -> datetime | None:
    return datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else None


def plan_for_price(price_id: str) -> str | None:
    """The paid plan a Stripe price id pays for (settings.PLAN_PRICES), or None."""
    return next((plan for plan, price in settings.PLAN_PRICES.items() if price["stripe_price"] == price_id), None)


def pack_for_price(price_id: str) -> str | None:
    return next((pack for pack, price in settings.CREDIT_PACKS.items() if price["stripe_price"] == price_id), None)


# --- Checkout and the portal --------------------------------------------------------------------------


def billing_account_get(*, user) -> BillingAccount:
    """The account's billing record, made on first use."""
    account, _ = BillingAccount.objects.get_or_create(user=user)
    return account


def _customer(*, user) -> BillingAccount:
    account = billing_account_get(user=user)
    if not account.customer_id:
        account.customer_id = _payments().customer_create(email=user.email, account_ref=account.reference)
        account.save(update_fields=["customer_id"])
    return account


def checkout_start(*, user, product: str, attempt: str) -> str:
    """Opens a hosted Checkout for a plan (a subscription) or a credit pack (a payment); returns its URL.

    `attempt` makes the Idempotency-Key: the same attempt retried gets the same session."""
    if not payments_configured():
        raise BillingRefused("payments_off", "Payments are not configured on this site.", status=409)
    if product in settings.PLAN_PRICES:
        mode, price = "subscription", settings.PLAN_PRICES[product]["stripe_price"]
        account = billing_account_get(user=user)
        if account.subscription_status in (*LIVE_STATUSES, "past_due") and account.subscription_id:
            raise BillingRefused(
                "already_subscribed",
                "You already have a subscription. Change or cancel it from the billing portal.",
                status=409,
            )
    elif product in settings.CREDIT_PACKS:
        mode, price = "payment", settings.CREDIT_PACKS[product]["stripe_price"]
    else:
        raise BillingRefused("unknown_product", "There is no such plan or credit pack.", status=404)
    account = _customer(user=user)
    base = settings.BASE_URL
    back = base + reverse("billing-return")
    session = _payments().checkout_create(
        customer=account.customer_id,
        mode=mode,
        price=price,
        success_url=back + "?result=success&session_id={CHECKOUT_SESSION_ID}",
        cancel_url=back + "?result=cancel",
        key=f"checkout:{account.reference}:{product}:{attempt}"[:255],
        metadata={"account": account.reference, "product": product},
    )
    log.info("billing.checkout", extra={"mode": mode, "product": product})
    return session["url"]


def portal_start(*, user, attempt: str) -> str:
    """A Customer Portal session for the account (cards, invoices, plan changes, cancellation); returns its URL."""
    if not payments_configured():
        raise BillingRefused("payments_off", "Payments are not configured on this site.", status=409)
    account = billing_account_get(user=user)
    if not account.customer_id:
        raise BillingRefused("no_customer", "You have not paid for anything yet, so there is nothing to manage.")
    return _payments().portal_create(
        customer=account.customer_id,
        return_url=settings.BASE_URL + reverse("account"),
        key=f"portal:{account.reference}:{attempt}"[:255],
    )


# --- Webhooks -------------------------------------------------------------------------------------------


@dataclass
class _State:
    """What Stripe says now about the objects an event concerns, read before the transaction."""

    customer: str = ""
    sessions: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    subscription: dict | None = None
    charge: dict | None = None
    read_at: datetime = field(default_factory=timezone.now)


def stripe_webhook_receive(*, payload: bytes, signature: str | None) -> str:
    """Verifies one delivery and applies it once; returns "applied", "duplicate", "ignored" or "unknown_customer".

    Raises WebhookRejected for a bad signature, ImproperlyConfigured without a webhook secret."""
    event = webhook_event(payload=payload, signature=signature)
    event_id, kind = event["id"], event["type"]
    obj = (event.get("data") or {}).get("object") or {}
    object_id = str(obj.get("id") or "")[:120]
    if StripeEvent.objects.filter(event_id=event_id).exists():
        return "duplicate"
    if kind not in HANDLED_EVENTS:
        return _record(event_id, kind, object_id, "ignored")
    api = _payments()
    state = _read_state(api, kind, obj)
    with transaction.atomic():
        account = (
            BillingAccount.objects.select_for_update().filter(customer_id=state.customer).first()
            if state.customer
            else None
        )
        if account is None or account.user_id is None:
            outcome = "unknown_customer"
        else:
            # The user row lock serialises this with job creation (which reserves credits) and with other events.
            user = get_user_model().objects.select_for_update().get(pk=account.user_id)
            _apply(api, account, user, state)
            outcome = "applied"
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event_id, type=kind, object_id=object_id, outcome=outcome)
        except IntegrityError:
            # Another process handled this event while we read Stripe: undo ours, it is already applied.
            transaction.set_rollback(True)
            return "duplicate"
    log.info("billing.webhook", extra={"event_id": event_id, "type": kind, "outcome": outcome})
    return outcome


def _record(event_id: str, kind: str, object_id: str, outcome: str) -> str:
    try:
        with transaction.atomic():
            StripeEvent.objects.create(event_id=event_id, type=kind, object_id=object_id, outcome=outcome)
    except IntegrityError:
        return "duplicate"
    return outcome


def _read_state(api: StripePayments, kind: str, obj: dict) -> _State:
    state = _State()
    if kind.startswith("checkout.session."):
        session = api.checkout_session(obj["id"])
        state.customer = session.get("customer") or ""
        state.sessions.append(session)
        if session.get("mode") == "subscription" and session.get("subscription"):
            state.subscription = api.subscription(_id(session["subscription"]))
    elif kind.startswith("invoice."):
        invoice = api.invoice(obj["id"])
        state.customer = _id(invoice.get("customer"))
        state.invoices.append(invoice)
        subscription = _invoice_subscription(invoice)
        if subscription:
            state.subscription = api.subscription(subscription)
    elif kind.startswith("customer.subscription."):
        state.subscription = api.subscription(obj["id"])
        state.customer = _id(state.subscription.get("customer"))
    elif kind in ("charge.refunded", "charge.dispute.created"):
        charge_id = obj["id"] if kind == "charge.refunded" else _id(api.dispute(obj["id"])["charge"])
        charge = api.charge(charge_id)
        state.charge = charge
        state.customer = _id(charge.get("customer"))
        # The refund may arrive before the payment it refunds: read what the charge paid for, so it is
        # granted first and then taken back.
        intent = _id(charge.get("payment_intent"))
        if intent and not Payment.objects.filter(payment_intent=intent).exists():
            state.sessions += [s for s in api.checkout_sessions_for_payment(intent) if s.get("mode") == "payment"]
            for link in api.invoice_payments_for(intent):
                state.invoices.append(api.invoice(_id(link["invoice"])))
    return state


def _id(value) -> str:
    """A Stripe reference, expanded (a dict with an id) or not (the id)."""
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def _invoice_subscription(invoice: dict) -> str:
    # API 2025-03 onwards: the subscription is under parent.subscription_details.
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    return _id(details.get("subscription"))


def _apply(api: StripePayments, account: BillingAccount, user, state: _State) -> None:
    for session in state.sessions:
        _apply_checkout(account, user, session)
    for invoice in state.invoices:
        _apply_invoice(account, user, invoice)
    if state.subscription is not None:
        subscription = state.subscription
        if account.synced_at and account.synced_at > state.read_at:
            # Someone wrote a newer state after we read ours: read again, under the lock, rather than go back.
            subscription = api.subscription(subscription["id"])
        _apply_subscription(account, user, subscription)
    if state.charge is not None:
        _apply_charge(user, state.charge)


def _apply_checkout(account: BillingAccount, user, session: dict) -> None:
    if session.get("mode") != "payment" or session.get("payment_status") != "paid":
        return  # unpaid or awaiting an asynchronous payment: nothing yet (async_payment_succeeded follows)
    items = ((session.get("line_items") or {}).get("data")) or []
    price = _id((items[0].get("price") if items else None) or "")
    pack = pack_for_price(price)
    if pack is None:
        log.warning("billing.unknown_price", extra={"session": session["id"]})
        return
    credits = settings.CREDIT_PACKS[pack]["credits"]
    invoice = session.get("invoice") if isinstance(session.get("invoice"), dict) else {}
    payment, _ = Payment.objects.get_or_create(
        stripe_id=session["id"],
        defaults={
            "user": user,
            "kind": PaymentKind.PACK,
            "payment_intent": _id(session.get("payment_intent")),
            "product": pack,
            "credits": credits,
            "amount": session.get("amount_total") or 0,
            "currency": session.get("currency") or "",
            "invoice_url": (invoice or {}).get("hosted_invoice_url") or "",
        },
    )
    credits_add(
        user=user,
        kind=EntryKind.PURCHASE,
        credits=credits,
        key=f"purchase:{session['id']}",
        memo=f"{credits} credit pack",
        reference=session["id"],
        invoice_url=payment.invoice_url,
    )


def _apply_invoice(account: BillingAccount, user, invoice: dict) -> None:
    if invoice.get("status") != "paid" or invoice.get("billing_reason") not in GRANT_REASONS:
        return
    lines = ((invoice.get("lines") or {}).get("data")) or []
    if not lines:
        return
    line = lines[0]
    price = _id((((line.get("pricing") or {}).get("price_details")) or {}).get("price"))
    plan = plan_for_price(price)
    if plan is None:
        log.warning("billing.unknown_price", extra={"invoice": invoice["id"]})
        return
    credits = settings.PLANS[plan]["monthly_credits"]
    period = line.get("period") or {}
    payments = ((invoice.get("payments") or {}).get("data")) or []
    intent = _id(((payments[0].get("payment") or {}).get("payment_intent")) if payments else "")
    Payment.objects.get_or_create(
        stripe_id=invoice["id"],
        defaults={
            "user": user,
            "kind": PaymentKind.SUBSCRIPTION,
            "payment_intent": intent,
            "product": plan,
            "credits": credits,
            "amount": invoice.get("amount_paid") or 0,
            "currency": invoice.get("currency") or "",
            "invoice_url": invoice.get("hosted_invoice_url") or "",
        },
    )
    start, end = _when(period.get("start")), _when(period.get("end"))
    credits_add(
        user=user,
        kind=EntryKind.GRANT,
        credits=credits,
        key=f"grant:invoice:{invoice['id']}",
        memo=_period_memo(plan, start, end),
        expires_at=end,
        reference=invoice["id"],
        invoice_url=invoice.get("hosted_invoice_url") or "",
    )


def _period_memo(plan: str, start: datetime | None, end: datetime | None) -> str:
    """ "Pro plan, 7 Dec – 6 Jan 2027": what the history shows for a month's grant."""
    if not (start and end):
        return f"{plan.capitalize()} plan"
    return f"{plan.capitalize()} plan, {start.day} {start:%b} – {end.day} {end:%b %Y}"


def _apply_subscription(account: BillingAccount, user, subscription: dict) -> None:
    status = subscription.get("status") or ""
    in_force = (*LIVE_STATUSES, "past_due")
    # Another subscription of the same customer replaces ours only if it is in force and ours is not.
    if (
        account.subscription_id
        and subscription["id"] != account.subscription_id
        and (status not in in_force or account.subscription_status in in_force)
    ):
        return
    items = ((subscription.get("items") or {}).get("data")) or []
    item = items[0] if items else {}
    plan = plan_for_price(_id(item.get("price"))) or ""
    now = timezone.now()
    account.subscription_id = subscription["id"]
    account.subscription_status = status
    account.plan = plan
    # A cancellation may be scheduled by the flag or by a date (`cancel_at`, which Stripe also sets with the flag);
    # either way the plan ends at the earlier of that date and the period's end.
    period_end, cancel_at = _when(item.get("current_period_end")), _when(subscription.get("cancel_at"))
    account.current_period_end = min(d for d in (period_end, cancel_at) if d) if period_end or cancel_at else None
    account.cancel_at_period_end = bool(subscription.get("cancel_at_period_end")) or cancel_at is not None
    if status == "past_due":
        account.past_due_since = account.past_due_since or now
    else:
        account.past_due_since = None
    account.synced_at = now
    account.save()
    _set_plan(user, effective_plan(account, now=now))


def effective_plan(account: BillingAccount, *, now: datetime) -> str:
    """The plan in force: the subscription's while it is active (or past due within the grace period)."""
    if account.plan and account.subscription_status in LIVE_STATUSES:
        return account.plan
    past_due = account.subscription_status == "past_due" and account.past_due_since
    if account.plan and past_due and now < account.past_due_since + timedelta(days=settings.BILLING_GRACE_DAYS):
        return account.plan
    return settings.DEFAULT_PLAN


def _set_plan(user, plan: str) -> None:
    if user.plan != plan:
        log.info("billing.plan_changed", extra={"user_id": user.pk, "plan": plan})
        get_user_model().objects.filter(pk=user.pk).update(plan=plan)
        user.plan = plan


def _apply_charge(user, charge: dict) -> None:
    intent = _id(charge.get("payment_intent"))
    payment = Payment.objects.filter(payment_intent=intent, user=user).first() if intent else None
    if payment is None:
        log.warning("billing.charge_without_payment", extra={"charge": charge.get("id")})
        return
    amount = charge.get("amount") or payment.amount or 1
    refunded = min(charge.get("amount_refunded") or 0, amount)
    disputed = bool(charge.get("disputed"))
    target = payment.credits if disputed else payment.credits * refunded // amount
    taken = (
        LedgerEntry.objects.filter(
            user=user, reference=payment.stripe_id, kind__in=(EntryKind.REFUND, EntryKind.REVERSAL)
        ).aggregate(total=Sum("credits"))["total"]
        or 0
    )
    kind = EntryKind.REVERSAL if disputed else EntryKind.REFUND
    if target > taken:
        credits_take_back(
            user=user,
            kind=kind,
            credits=target - taken,
            key=f"{kind}:{payment.stripe_id}:{target}",
            memo="payment disputed" if disputed else "payment refunded",
            reference=payment.stripe_id,
        )
    payment.amount_refunded = refunded
    if disputed:
        payment.status = PaymentStatus.DISPUTED
    elif refunded >= amount:
        payment.status = PaymentStatus.REFUNDED
    elif refunded:
        payment.status = PaymentStatus.PARTIALLY_REFUNDED
    payment.save(update_fields=["amount_refunded", "status", "updated_at"])


def billing_grace_lapsed(*, now: datetime | None = None) -> int:
    """Moves accounts whose renewal stayed unpaid past the grace period to the default plan; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.BILLING_GRACE_DAYS)
    moved = 0
    lapsed = BillingAccount.objects.filter(
        subscription_status="past_due", past_due_since__lte=cutoff, user__isnull=False
    )
    for account in lapsed.exclude(user__plan=settings.DEFAULT_PLAN).select_related("user"):
        with transaction.atomic():
            user = get_user_model().objects.select_for_update().get(pk=account.user_id)
            _set_plan(user, effective_plan(account, now=now))
            moved += 1
    return moved


def stripe_events_prune(*, now: datetime | None = None, days: int = 30) -> int:
    """Forgets handled event ids after `days` (Stripe stops retrying after three days)."""
    now = now or timezone.now()
    count, _ = StripeEvent.objects.filter(received_at__lt=now - timedelta(days=days)).delete()
    return count
