from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "chatserver.search"
    label = "search"
    default_auto_field = "django.db.models.BigAutoField"
