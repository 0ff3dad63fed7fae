from django.apps import AppConfig


class JewelleryConfig(AppConfig):
    name = "intaglio.jewellery"
    label = "jewellery"

    def ready(self):
        from intaglio.jewellery import jobs  # noqa: F401  registers the jewellery job kinds
