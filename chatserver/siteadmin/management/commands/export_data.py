"""manage.py export_data [--room ID ...] OUT.jsonl: rooms (default all) as JSON lines."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from chatserver.chat.models import Room
from chatserver.siteadmin.exporter import export_lines


class Command(BaseCommand):
    help = "Export users, rooms, memberships, messages and reactions as JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("out", help="output file ('-' for stdout)")
        parser.add_argument("--room", type=int, action="append", dest="rooms",
                            help="export only this room (repeatable)")

    def handle(self, *args, out: str, rooms: list[int] | None, **opts):
        if rooms:
            found = set(Room.objects.filter(id__in=rooms).values_list("id", flat=True))
            if set(rooms) - found:
                raise CommandError(f"no such room: {sorted(set(rooms) - found)}")
        if out == "-":
            for line in export_lines(rooms):
                self.stdout.write(line, ending="")
            return
        n = 0
        with open(out, "w", encoding="utf-8") as f:
            for line in export_lines(rooms):
                f.write(line)
                n += 1
        self.stderr.write(f"wrote {n} lines to {out}")
