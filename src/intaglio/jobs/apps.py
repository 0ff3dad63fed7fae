from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "intaglio.jobs"
    label = "jobs"
