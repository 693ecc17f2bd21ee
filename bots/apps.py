from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "bots"
    label = "bots"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Hand every committed message to the bot runtime of this process."""
        from chatserver.chat import hooks

        from .runtime import runtime

        hooks.on_message_posted(runtime.on_message_posted)
