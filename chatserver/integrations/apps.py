from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "chatserver.integrations"
    label = "integrations"

    def ready(self) -> None:
        # Outgoing webhooks see each committed message once, in the writing process.
        from chatserver.chat.hooks import on_message_posted

        from . import outgoing

        on_message_posted(outgoing.on_message_posted)
