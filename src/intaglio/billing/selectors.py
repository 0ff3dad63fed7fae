"""Reads for the billing pages: the account's subscription state and what a plan change would exceed."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from intaglio.billing.models import BillingAccount, Payment


def billing_account_find(*, user) -> BillingAccount | None:
    return BillingAccount.objects.filter(user=user).first()


def payments_list(*, user):
    return Payment.objects.filter(user=user).order_by("-created_at", "-id")


@dataclass(frozen=True)
class Exceeded:
    """A limit of the target plan that the account's current use is over."""

    limit: str
    current: str
    allowed: str


def plan_change_exceeds(*, plan: str, storage_used_bytes: int, active_jobs: int, largest_image_mp: float):
    """The limits of `plan` the account would be over if it moved there now, named for the person to read first."""
    target = settings.PLANS[plan]
    exceeded = []
    storage_mb = storage_used_bytes / (1024 * 1024)
    if storage_mb > target["storage_mb"]:
        exceeded.append(Exceeded("Storage", f"{storage_mb:,.0f} MB stored", f"{target['storage_mb']:,} MB"))
    if active_jobs > target["concurrent_jobs"]:
        exceeded.append(Exceeded("Jobs at a time", f"{active_jobs} in progress", str(target["concurrent_jobs"])))
    if largest_image_mp > target["max_image_mp"]:
        # One decimal, so a 24.3 MP photo does not read as "24 MP" against a 24 MP limit.
        size = f"{largest_image_mp:.1f}".removesuffix(".0")
        exceeded.append(Exceeded("Photo size", f"a {size} MP photo stored", f"{target['max_image_mp']} MP"))
    return exceeded
