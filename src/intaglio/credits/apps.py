from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "intaglio.credits"
    label = "credits"

    def ready(self):
        from intaglio.credits import periodic  # noqa: F401  registers the monthly grant with the scheduler
        from intaglio.credits.personal_data import declare

        declare()  # the ledger, for privacy's rights
