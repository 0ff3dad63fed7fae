from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "intaglio.accounts"
    label = "accounts"

    def ready(self):
        from intaglio.accounts.personal_data import declare

        declare()  # the account and its API tokens, for privacy's rights
