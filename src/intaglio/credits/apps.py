from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "intaglio.credits"
    label = "credits"

    def ready(self):
        from intaglio.credits import (
            periodic,  # noqa: F401  registers the monthly grant with the scheduler
            personal_data,
        )

        personal_data.declare()
