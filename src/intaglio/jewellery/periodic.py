"""The jewellery studio's periodic work."""

from datetime import timedelta

from intaglio.core.scheduler import periodic
from intaglio.jewellery.services import webhooks_prune


# Delivery ids are kept long enough to recognise any redelivery (providers retry for hours, not weeks).
@periodic("jewellery.prune_webhook_deliveries", every=timedelta(days=1))
def prune_webhook_deliveries():
    return {"deleted": webhooks_prune()}
