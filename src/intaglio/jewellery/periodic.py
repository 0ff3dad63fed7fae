"""The jewellery studio's periodic work."""

from datetime import timedelta

from intaglio.core.scheduler import periodic
from intaglio.jewellery.services import batches_advance, webhooks_prune


# Delivery ids are kept long enough to recognise any redelivery (providers retry for hours, not weeks).
@periodic("jewellery.prune_webhook_deliveries", every=timedelta(days=1))
def prune_webhook_deliveries():
    return {"deleted": webhooks_prune()}


# A batch's next generations start as earlier ones finish and free the plan's slots.
@periodic("jewellery.advance_batches", every=timedelta(seconds=30))
def advance_batches():
    return {"started": batches_advance()}
