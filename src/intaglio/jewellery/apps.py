from django.apps import AppConfig


class JewelleryConfig(AppConfig):
    name = "intaglio.jewellery"
    label = "jewellery"

    def ready(self):
        from intaglio.jewellery import jobs, periodic, personal_data  # noqa: F401  registers the job kinds and periodic work

        personal_data.declare()
