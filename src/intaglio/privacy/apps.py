from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PrivacyConfig(AppConfig):
    name = "intaglio.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self):
        from intaglio.privacy import (
            periodic,  # noqa: F401  registers retention, closure and purge work
            personal_data,
        )
        from intaglio.privacy.roles import privacy_officer_group_ensure

        personal_data.declare()

        post_migrate.connect(privacy_officer_group_ensure, sender=self)
