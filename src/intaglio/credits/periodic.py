"""The credits app's periodic work."""

from datetime import timedelta

from django.utils import timezone

from intaglio.core.scheduler import periodic
from intaglio.credits.services import credits_expire_due, credits_grant_due


# Hourly rather than monthly so an account opened mid-month, or a missed tick, is caught up within the hour;
# the grant itself is idempotent per account and month.
@periodic("credits.grant_monthly", every=timedelta(hours=1))
def grant_monthly():
    return {"granted": credits_grant_due(period=f"{timezone.now():%Y-%m}")}


# Hourly: a grant's credits expire within the hour after its period ends (the expiry is idempotent per grant).
@periodic("credits.expire_monthly", every=timedelta(hours=1))
def expire_monthly():
    return {"expired": credits_expire_due()}
