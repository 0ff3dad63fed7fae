from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "intaglio.accounts"
    label = "accounts"

    def ready(self):
        from intaglio.accounts import personal_data

        personal_data.declare()
