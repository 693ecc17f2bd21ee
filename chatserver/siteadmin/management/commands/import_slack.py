"""manage.py import_slack EXPORT.zip: channels, users, messages, threads from a Slack export."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from chatserver.audit import log as audit
from chatserver.siteadmin.exporter import ImportError_, import_dataset
from chatserver.siteadmin.slack import read_archive


class Command(BaseCommand):
    help = "Import a Slack export archive (zip)."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the Slack export zip")

    def handle(self, *args, archive: str, **opts):
        try:
            ds = read_archive(archive)
        except ImportError_ as exc:
            raise CommandError(f"{archive}: {exc}") from None
        counts = import_dataset(ds)
        audit.record(actor=None, action="data.imported_slack", target=archive[:200],
                     detail=counts)
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
