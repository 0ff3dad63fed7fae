from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "intaglio.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self):
        from intaglio.privacy import periodic  # noqa: F401  registers retention, closure and purge work
