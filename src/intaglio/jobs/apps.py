from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "intaglio.jobs"
    label = "jobs"

    def ready(self):
        from intaglio.jobs import periodic, renditions  # noqa: F401  register the reaper and the "preview" kind
        from intaglio.jobs.personal_data import declare

        declare()  # jobs, and the expiry of files, for privacy's rights and retention sweep
