from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "intaglio.assets"
    label = "assets"

    def ready(self):
        from intaglio.assets.memory import process_memory_setup
        from intaglio.assets.personal_data import declare

        declare()  # the files each account holds, for privacy's rights
        process_memory_setup()  # the image memory budget and malloc's habits, in every process that loads Django
