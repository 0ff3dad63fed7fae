from django.apps import AppConfig
from django.db.models.signals import post_delete


def _copy_delete(sender, instance, **_kwargs) -> None:
    """A gallery picture's copy goes with it, however the picture went (unpublish, a deleted version, erasure):
    deleting the asset row here, and its blob once the transaction commits."""
    from django.db import transaction

    from intaglio.assets.models import Asset
    from intaglio.assets.services import asset_delete_blobs

    keys = list(Asset.objects.filter(pk=instance.asset_id).values_list("storage_key", flat=True))
    Asset.objects.filter(pk=instance.asset_id).delete()
    transaction.on_commit(lambda: asset_delete_blobs(keys))


class GalleryConfig(AppConfig):
    name = "intaglio.gallery"
    label = "gallery"

    def ready(self):
        from intaglio.gallery.models import GalleryImage
        from intaglio.gallery.personal_data import declare
        from intaglio.gallery.services import item_taken_down
        from intaglio.privacy.consent import item_unpublished

        declare()  # published items and reports filed, for privacy's rights
        post_delete.connect(_copy_delete, sender=GalleryImage, dispatch_uid="gallery-copy-delete")
        # Unpublished anywhere (the gallery, the privacy page, the API): the item and its copies go at once.
        item_unpublished.connect(item_taken_down, dispatch_uid="gallery-item-taken-down")
