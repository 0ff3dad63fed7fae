from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "intaglio.ops"
    label = "ops"
    verbose_name = "Operations"
