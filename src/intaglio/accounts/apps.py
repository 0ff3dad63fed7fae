from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "intaglio.accounts"
    label = "accounts"

    def ready(self):
        from intaglio.accounts.personal_data import declare

        declare()  # the account and its API tokens, for privacy's rights
        from intaglio.accounts.roles import role_groups_ensure

        post_migrate.connect(role_groups_ensure, sender=self)  # one group per staff role
