from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "chatserver.accounts"
    label = "accounts"
