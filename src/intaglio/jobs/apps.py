from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "intaglio.jobs"
    label = "jobs"

    def ready(self):
        from intaglio.jobs import periodic  # noqa: F401  registers the reaper with the scheduler
        from intaglio.jobs.personal_data import declare

        declare()  # jobs, and the expiry of files, for privacy's rights and retention sweep
