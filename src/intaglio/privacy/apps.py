from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PrivacyConfig(AppConfig):
    name = "intaglio.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self):
        from intaglio.privacy import periodic  # noqa: F401  registers retention, closure and purge work
        from intaglio.privacy.notice import policy_first_ensure
        from intaglio.privacy.personal_data import declare
        from intaglio.privacy.roles import privacy_officer_group_ensure

        declare()  # privacy's own records (consent, notices, measurements, requests) sit beside the other apps'
        post_migrate.connect(privacy_officer_group_ensure, sender=self)
        post_migrate.connect(policy_first_ensure, sender=self)  # version 1 of the notice on a fresh install
