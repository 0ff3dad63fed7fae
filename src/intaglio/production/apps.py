from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_delete


def _capture_file_delete(sender, instance, **_kwargs) -> None:
    """A capture's file goes with it, however the capture went (an order erased, an account purged): the asset row
    here, its blob once the transaction commits."""
    from django.db import transaction

    from intaglio.assets.models import Asset
    from intaglio.assets.services import asset_delete_blobs

    keys = list(Asset.objects.filter(pk=instance.asset_id).values_list("storage_key", flat=True))
    Asset.objects.filter(pk=instance.asset_id).delete()
    transaction.on_commit(lambda: asset_delete_blobs(keys))


def _version_deleted(sender, instance, **_kwargs) -> None:
    """Deleting a version (alone or with its artwork) cancels its open orders and removes the workshop's photos."""
    from intaglio.production.models import CancelReason, Order
    from intaglio.production.services import orders_cancel_and_clear

    orders_cancel_and_clear(orders=Order.objects.filter(version=instance), reason=CancelReason.VERSION_DELETED)


def _account_saved(sender, instance, update_fields=None, **_kwargs) -> None:
    """Closing an account (privacy's account_close) cancels its open orders and removes the workshop's photos at
    once, without waiting for the closed account's content deletion."""
    if instance.closed_at is None or (update_fields is not None and "closed_at" not in update_fields):
        return
    from intaglio.production.models import CancelReason, Order
    from intaglio.production.services import orders_cancel_and_clear

    orders_cancel_and_clear(orders=Order.objects.filter(owner=instance), reason=CancelReason.ACCOUNT_CLOSED)


class ProductionConfig(AppConfig):
    name = "intaglio.production"
    label = "production"

    def ready(self):
        from django.contrib.auth import get_user_model

        from intaglio.engrave.models import ArtworkVersion
        from intaglio.production.models import Capture
        from intaglio.production.personal_data import declare

        declare()  # orders and the workshop's photos, for privacy's rights
        post_delete.connect(_capture_file_delete, sender=Capture, dispatch_uid="production-capture-file-delete")
        pre_delete.connect(_version_deleted, sender=ArtworkVersion, dispatch_uid="production-version-deleted")
        post_save.connect(_account_saved, sender=get_user_model(), dispatch_uid="production-account-closed")
