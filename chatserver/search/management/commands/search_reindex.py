"""Rebuild the search index, e.g. after changing CHAT_SEARCH_CONFIG."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from chatserver.search import schema


class Command(BaseCommand):
    help = "Rebuild the message search index with the configured text search configuration."

    def handle(self, *args, **options):
        with transaction.atomic():
            schema.reindex(connection)
        self.stdout.write(f"Search index rebuilt ({schema.config_name()}).")
