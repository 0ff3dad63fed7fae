from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "intaglio.billing"
    label = "billing"

    def ready(self):
        from intaglio.billing import periodic  # noqa: F401  registers the grace-period check with the scheduler
        from intaglio.billing.personal_data import declare

        declare()  # billing records, for privacy's rights (J22)
