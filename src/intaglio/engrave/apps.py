from django.apps import AppConfig


class EngraveConfig(AppConfig):
    name = "intaglio.engrave"
    label = "engrave"

    def ready(self):
        from intaglio.engrave import calibration, jobs  # noqa: F401  register the engraving job kinds
        from intaglio.engrave.personal_data import declare

        declare()  # artworks, machines and presets, for privacy's rights
