from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "intaglio.assets"
    label = "assets"

    def ready(self):
        from intaglio.assets.personal_data import declare

        declare()  # the files each account holds, for privacy's rights
