from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "chatserver.events"
    label = "events"
