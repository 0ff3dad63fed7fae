from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "intaglio.jobs"
    label = "jobs"

    def ready(self):
        from intaglio.jobs import (
            periodic,  # noqa: F401  registers the reaper with the scheduler
            personal_data,
        )

        personal_data.declare()
