"""The billing app's periodic work."""

from datetime import timedelta

from intaglio.billing.services import billing_grace_lapsed, stripe_events_prune
from intaglio.core.scheduler import periodic


# Hourly: a renewal left unpaid past the grace period moves the account to the default plan within the hour.
@periodic("billing.grace_lapsed", every=timedelta(hours=1))
def grace_lapsed():
    return {"moved": billing_grace_lapsed()}


@periodic("billing.prune_events", every=timedelta(days=1))
def prune_events():
    return {"pruned": stripe_events_prune()}
