"""What the pricing and account pages show about plans, packs and the subscription."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from intaglio.assets.selectors import largest_upload_pixels, storage_used_bytes
from intaglio.billing.selectors import billing_account_find, plan_change_exceeds
from intaglio.billing.services import LIVE_STATUSES
from intaglio.jobs.selectors import active_job_count
from intaglio.providers.stripe_api import payments_configured
from intaglio.web.credits.presenters import megabytes_label


@dataclass(frozen=True)
class PlanCard:
    key: str
    name: str
    monthly_credits: int
    storage_mb: int
    storage: str
    concurrent_jobs: int
    max_image_mp: int
    price: str
    buyable: bool
    current: bool


def pricing_context(user) -> dict:
    current = user.plan if user.is_authenticated else None
    plans = [
        PlanCard(
            key=key,
            name=key.capitalize(),
            monthly_credits=plan["monthly_credits"],
            storage_mb=plan["storage_mb"],
            storage=megabytes_label(plan["storage_mb"]),
            concurrent_jobs=plan["concurrent_jobs"],
            max_image_mp=plan["max_image_mp"],
            price=settings.PLAN_PRICES[key]["display"] if key in settings.PLAN_PRICES else "Free",
            buyable=key in settings.PLAN_PRICES,
            current=key == current,
        )
        for key, plan in settings.PLANS.items()
    ]
    packs = [{"key": key, **pack} for key, pack in settings.CREDIT_PACKS.items()]
    return {
        "plans": plans,
        "packs": packs,
        "payments_on": payments_configured(),
        "subscribed": bool(
            user.is_authenticated and (account := billing_account_find(user=user)) and account.subscription_id
            and account.subscription_status in (*LIVE_STATUSES, "past_due")
        ),
    }  # fmt: skip


def billing_summary(user) -> dict:
    """The account page's billing section: plan, renewal, past-due banner, and what a downgrade would exceed."""
    account = billing_account_find(user=user)
    now = timezone.now()
    summary = {
        "payments_on": payments_configured(),
        "plan_name": user.plan.capitalize(),
        "account": account,
        "past_due": bool(account and account.subscription_status == "past_due"),
        "grace_until": None,
        "renews_at": None,
        "ends_at": None,
        "downgrade_exceeds": [],
        "downgrade_plan": settings.DEFAULT_PLAN.capitalize(),
        "has_customer": bool(account and account.customer_id),
    }
    if account and account.subscription_status in (*LIVE_STATUSES, "past_due"):
        if account.cancel_at_period_end:
            summary["ends_at"] = account.current_period_end
        else:
            summary["renews_at"] = account.current_period_end
        if account.past_due_since:
            from datetime import timedelta

            summary["grace_until"] = account.past_due_since + timedelta(days=settings.BILLING_GRACE_DAYS)
    if user.plan != settings.DEFAULT_PLAN:
        summary["downgrade_exceeds"] = plan_change_exceeds(
            plan=settings.DEFAULT_PLAN,
            storage_used_bytes=storage_used_bytes(owner=user),
            active_jobs=active_job_count(owner=user),
            largest_image_mp=largest_upload_pixels(owner=user) / 1_000_000,
        )
    summary["now"] = now
    return summary
