from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "intaglio.accounts"
    label = "accounts"
