from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "chatserver.audit"
    label = "audit"
