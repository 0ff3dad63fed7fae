from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "intaglio.jobs"
    label = "jobs"

    def ready(self):
        from intaglio.jobs import periodic, renditions  # noqa: F401  register the reaper and the "preview" kind
