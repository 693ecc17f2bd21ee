from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "chatserver.realtime"
    label = "realtime"
