from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "intaglio.privacy"
    label = "privacy"
    verbose_name = "Privacy"
