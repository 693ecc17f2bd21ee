"""Create the first owner account (and a welcome room) if there is none."""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from chatserver.accounts.models import Role, User
from chatserver.chat import actions
from chatserver.chat.models import Room

WELCOME = """Welcome to **#general**! :wave:

- Chat here, mention people with `@username`, everyone with `@room`.
- The API docs are at [/api/v1/docs/](/api/v1/docs/).
"""


class Command(BaseCommand):
    help = "Create the first owner account and a #general room if none exist."

    def handle(self, *args, **options):
        creds = settings.DATA_DIR / "admin-credentials.txt"
        owner = User.objects.filter(role=Role.OWNER, is_active=True).first()
        if owner is None:
            username = os.environ.get("CHAT_ADMIN_USERNAME", "admin")
            password = os.environ.get("CHAT_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            owner = User.objects.create_superuser(username=username, password=password,
                                                  display_name="Admin")
            creds.write_text(f"username: {username}\npassword: {password}\n")
            creds.chmod(0o600)
            self.stdout.write(f"Created the owner account (also saved in {creds}):")
            self.stdout.write(f"    username: {username}\n    password: {password}")
        elif creds.exists():
            self.stdout.write(f"Sign in with the account in {creds}:")
            self.stdout.write("    " + creds.read_text().strip().replace("\n", "\n    "))
        else:
            self.stdout.write(f"Sign in as {owner.username}.")
        if not Room.objects.exists():
            room = actions.create_room(actor=owner, name="general",
                                       topic="Everything and anything")
            actions.post_message(actor=owner, room_id=room.id, body=WELCOME)
