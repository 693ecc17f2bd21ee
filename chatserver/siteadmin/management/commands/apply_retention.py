"""manage.py apply_retention: delete messages past their room's or the site's retention.

For cron when the server's own sweep is off (CHAT_RETENTION_INTERVAL=0).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from chatserver.siteadmin.retention import run_claimed


class Command(BaseCommand):
    help = "Apply message retention now (one process at a time)."

    def handle(self, *args, **opts):
        done = run_claimed()
        if done is None:
            self.stdout.write("another process is running the sweep; nothing done")
            return
        self.stdout.write(f"deleted {sum(done.values())} messages in {len(done)} rooms")
