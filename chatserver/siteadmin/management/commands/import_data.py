"""manage.py import_data IN.jsonl: import an export_data file (new rooms, users reused by name)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from chatserver.audit import log as audit
from chatserver.siteadmin.exporter import ImportError_, import_dataset, read_lines


class Command(BaseCommand):
    help = "Import users, rooms, memberships, messages and reactions from JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("src", help="input file")

    def handle(self, *args, src: str, **opts):
        try:
            with open(src, encoding="utf-8") as f:
                ds = read_lines(f)
        except OSError as exc:
            raise CommandError(str(exc)) from None
        except ImportError_ as exc:
            raise CommandError(f"{src}: {exc}") from None
        counts = import_dataset(ds)
        audit.record(actor=None, action="data.imported", target=src[:200], detail=counts)
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
