"""Delete raw webhook deliveries older than the retention window."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from chatserver.integrations.models import Delivery


class Command(BaseCommand):
    help = "Delete webhook deliveries older than CHAT_WEBHOOK_RETENTION_DAYS (run daily)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int,
                            default=settings.CHAT["WEBHOOK_RETENTION_DAYS"])

    def handle(self, *args, days: int, **options):
        cutoff = timezone.now() - timedelta(days=days)
        deleted, _ = Delivery.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} webhook deliveries older than {days} days.")
