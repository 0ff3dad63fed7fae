from django.apps import AppConfig


class JewelleryConfig(AppConfig):
    name = "intaglio.jewellery"
    label = "jewellery"

    def ready(self):
        from intaglio.jewellery import jobs, periodic  # noqa: F401  registers the job kinds and periodic work
        from intaglio.jewellery.personal_data import declare

        declare()  # pieces, for privacy's rights

        from django.core import checks

        from intaglio.jewellery.credentials import signing_check

        checks.register(signing_check, checks.Tags.security, deploy=True)
