from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "intaglio.web"
    label = "web"
