from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "chatserver.api"
    label = "api"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI auth extensions)
