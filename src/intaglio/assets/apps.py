from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "intaglio.assets"
    label = "assets"

    def ready(self):
        from intaglio.assets import (
            personal_data,
            previews,  # noqa: F401  registers the preview job kind
        )

        personal_data.declare()
