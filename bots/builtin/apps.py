from django.apps import AppConfig


class BuiltinBotsConfig(AppConfig):
    """The built-in ChatOps bots' data: rotations, pages, incidents, reminders,
    runbook actions, status endpoints (admin-defined data lives in real models)."""

    name = "bots.builtin"
    label = "builtin_bots"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """`@oncall-<rotation>` mentions and alert escalations page whoever is on call."""
        from chatserver.chat import hooks
        from chatserver.integrations import alerts

        from . import oncall_service

        hooks.on_message_posted(oncall_service.on_message_posted)
        alerts.on_escalate(oncall_service.on_alert_escalated)
