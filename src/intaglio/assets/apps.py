from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "intaglio.assets"
    label = "assets"
