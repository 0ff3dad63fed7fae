from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "intaglio.credits"
    label = "credits"
