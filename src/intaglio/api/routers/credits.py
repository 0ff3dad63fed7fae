"""Credits and plan: what you have left, what your plan gives you, and every movement of credits."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from intaglio.api.pagination import Paginated
from intaglio.assets.selectors import storage_used_bytes
from intaglio.credits.models import EntryKind
from intaglio.credits.selectors import credit_balance, credit_history

router = Router(tags=["credits"])


class CreditsOut(Schema):
    balance: int = Field(description="Credits available now (credits held for jobs in progress are not included).")
    plan: str
    monthly_credits: int = Field(description="Credits your plan grants each month.")
    concurrent_jobs: int = Field(description="How many jobs your plan runs at a time.")
    storage_used_bytes: int
    storage_quota_bytes: int


class LedgerEntryOut(Schema):
    id: int
    kind: EntryKind = Field(
        description="grant (monthly allowance), purchase, reserve (held for a job), capture (the job succeeded: "
        "spent), release (the job failed or was cancelled: returned), expiry."
    )
    credits: int = Field(description="How many credits the entry is about.")
    delta: int = Field(description="Its effect on the balance (a capture is 0: the credits were already held).")
    memo: str
    job_id: int | None
    created_at: datetime


@router.get("/credits", response=CreditsOut, summary="Your credit balance, plan and storage")
def credits(request):
    user = request.auth
    plan = settings.PLANS[user.plan]
    return {
        "balance": credit_balance(user=user),
        "plan": user.plan,
        "monthly_credits": plan["monthly_credits"],
        "concurrent_jobs": plan["concurrent_jobs"],
        "storage_used_bytes": storage_used_bytes(owner=user),
        "storage_quota_bytes": plan["storage_mb"] * 1024 * 1024,
    }


@router.get(
    "/credits/history",
    response=list[LedgerEntryOut],
    summary="Every movement of your credits, newest first",
)
@paginate(Paginated)
def credits_history(request):
    return credit_history(user=request.auth)
