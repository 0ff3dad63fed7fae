from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "intaglio.core"
    label = "core"
    verbose_name = "Core"
