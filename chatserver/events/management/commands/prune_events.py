"""Delete room and user events older than the retention window.

Clients that ask to resume from before the oldest kept event get
resync_required and reload the room over REST.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from chatserver.events.models import RoomEvent, UserEvent


class Command(BaseCommand):
    help = "Delete events older than CHAT_EVENT_RETENTION_DAYS (run daily)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.CHAT["EVENT_RETENTION_DAYS"])

    def handle(self, *args, days: int, **options):
        cutoff = timezone.now() - timedelta(days=days)
        rooms, _ = RoomEvent.objects.filter(created_at__lt=cutoff).delete()
        users, _ = UserEvent.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {rooms} room events and {users} user events "
                          f"older than {days} days.")
