"""A test harness for bot authors: the real runtime and actions on the test database.

    from bots.testing import botbox  # noqa: F401  (in your conftest.py)

    def test_echo(botbox):
        box = botbox(EchoBot)
        alice = box.user("alice")
        ops = box.room("ops", members=[alice], bots=["echo"])
        alice.says(ops, "@echo say hi")
        assert ops.expect_bot(contains="hi")

Nothing is mocked: `says` posts through chatserver.chat.actions, the commit
hands the message to the runtime, and `says` returns once every handler it
started has finished (no sleeps). Ephemeral answers (help, usage, denials) are
captured per user. `box.advance("1h")` moves the bots' clock and runs the
schedules that came due (`box.travel_to(datetime)` sets it to a given instant
first); `box.webhook(...)` drives a webhook receiver.
A handler that raises makes `says` raise, unless `expect_error=True`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from chatserver.accounts.models import ApiToken, Role, User
from chatserver.chat import actions
from chatserver.chat.models import Message, Room

from .grammar import parse_duration
from .runtime import runtime
from .sdk import Bot


class BotBox:
    def __init__(self, bots: tuple[type[Bot], ...], *, include_help: bool = True):
        from .builtin.help import HelpBot

        classes = list(bots)
        if include_help and HelpBot not in classes:
            classes.append(HelpBot)
        runtime.use(classes)
        runtime.reset()
        runtime.raise_errors = True
        self.frames: list[tuple[int, dict[str, Any]]] = []
        runtime.observers.append(self._observe)
        self._owner: User | None = None
        self.bots = {h.name: h.user for h in runtime.sync_users().values()}
        runtime.sync_schedules()  # the clock starts now

    def _observe(self, user_id: int, frame: dict[str, Any]) -> None:
        self.frames.append((user_id, frame))

    def close(self) -> None:
        runtime.wait_idle(10)
        if self._observe in runtime.observers:
            runtime.observers.remove(self._observe)
        runtime.raise_errors = False
        runtime.reset()
        runtime.use([])
        with runtime._lock:
            runtime._bots = None  # back to the configured bots

    # --- the world ------------------------------------------------------------------

    def user(self, name: str, role: str = Role.MEMBER, *, timezone: str = "") -> Person:
        """A person; `timezone` is their profile's zone (empty: the site's)."""
        user = User(username=name, display_name=name.title(), role=role, timezone=timezone)
        user.set_unusable_password()
        user.save()
        user.raw_token = ApiToken.issue(user)[1]  # type: ignore[attr-defined]
        return Person(self, user)

    def _admin(self) -> User:
        if self._owner is None:
            self._owner = User.objects.create(username="harness-owner", role=Role.OWNER)
        return self._owner

    def room(self, name: str, *, members: list[Person] = (),  # type: ignore[assignment]
             bots: list[str] = (), visibility: str = "public",  # type: ignore[assignment]
             admins: list[Person] = ()) -> RoomBox:  # type: ignore[assignment]
        """A room made by `admins[0]` (or the harness owner) with these members and bots."""
        creator = admins[0].user if admins else self._admin()
        room = actions.create_room(actor=creator, name=name, visibility=visibility)
        ids = [p.user.id for p in [*members, *admins[1:]] if p.user.id != creator.id]
        ids += [self.bots[b].id for b in bots]
        if ids:
            actions.invite(actor=creator, room_id=room.id, user_ids=ids)
        for admin in admins[1:]:
            actions.set_member_role(actor=creator, room_id=room.id, user_id=admin.user.id,
                                    role="admin")
        return RoomBox(self, room)

    def dm(self, person: Person, bot: str) -> RoomBox:
        room = actions.open_dm(actor=person.user, user_ids=[self.bots[bot].id])
        return RoomBox(self, room)

    # --- time and webhooks ------------------------------------------------------------

    def advance(self, duration: str) -> int:
        """Move the bots' clock forward and run what came due; return how many jobs ran."""
        runtime.clock_offset += parse_duration(duration)
        ran = runtime.run_due_jobs()
        self._settle(False)
        return ran

    def travel_to(self, when: datetime) -> None:
        """Set the bots' clock to `when` (aware); the declared schedules restart from it.
        Then `advance` moves on from there."""
        from django.utils import timezone

        from .models import ScheduledJob

        if when.tzinfo is None:
            raise ValueError("travel_to needs an aware datetime")
        runtime.clock_offset = when - timezone.now()
        ScheduledJob.objects.filter(bot_id__in=[u.id for u in self.bots.values()]).delete()
        runtime.sync_schedules()

    def webhook(self, bot: str, name: str, payload: Any) -> int:
        run_id = runtime.deliver_webhook(bot, name, payload)
        self._settle(False)
        return run_id

    def _settle(self, expect_error: bool) -> None:
        assert runtime.wait_idle(30), "the bot runtime did not finish in 30 s"
        errors = list(runtime.errors)
        runtime.errors.clear()
        if errors and not expect_error:
            raise errors[0]

    def can(self, person: Person, room: RoomBox, text: str) -> bool:
        """Whether `person` may run `text` (a bot command without the @bot) in `room`."""
        from chatserver.chat.models import Membership

        from . import acl
        from .grammar import normalise, parse_args, tokenize
        from .runtime import Resolver

        bot, _, rest = text.lstrip("@/").partition(" ")
        handle = runtime.sync_users()[bot]
        tokens = tokenize(normalise(rest))
        cmd, n = handle.cls.find_command([t.text for t in tokens])
        assert cmd is not None, f"no command in {text!r}"
        inv = parse_args(cmd.grammar, normalise(rest), tokens[n:], Resolver(person.user))
        membership = Membership.objects.filter(room=room.room, user=person.user).first()
        return acl.denial(cmd, person.user, room.room, membership, inv.args) is None


@dataclass
class Person:
    box: BotBox
    user: User

    @property
    def id(self) -> int:
        return self.user.id

    def says(self, room: RoomBox, text: str, *, thread: int | None = None,
             expect_error: bool = False) -> dict[str, Any]:
        """Post `text` as this person and wait for every bot reaction to finish."""
        msg = actions.post_message(actor=self.user, room_id=room.room.id, body=text,
                                   thread_id=thread).message
        self.box._settle(expect_error)
        return msg

    def ephemerals(self, room: RoomBox | None = None) -> list[str]:
        return [f["message"]["body"] for uid, f in self.box.frames
                if uid == self.user.id and (room is None or f["room"] == room.room.id)]

    def expect_ephemeral(self, contains: str) -> str:
        found = [b for b in self.ephemerals() if contains in b]
        assert found, f"no ephemeral answer to @{self.user.username} contains {contains!r}; " \
                      f"got {self.ephemerals()!r}"
        return found[-1]


@dataclass
class RoomBox:
    box: BotBox
    room: Room

    @property
    def id(self) -> int:
        return self.room.id

    def bot_messages(self) -> list[Message]:
        return list(Message.objects.filter(room=self.room, author__is_bot=True, deleted=False)
                    .select_related("author").order_by("seq"))

    def messages(self) -> list[Message]:
        return list(Message.objects.filter(room=self.room, deleted=False).order_by("seq"))

    def expect_bot(self, contains: str, *, bot: str | None = None) -> Message:
        """The newest bot message here containing `contains` (edits included)."""
        found = [m for m in self.bot_messages() if contains in m.body
                 and (bot is None or m.author.username == bot)]
        assert found, f"no bot message contains {contains!r}; bots said " \
                      f"{[m.body for m in self.bot_messages()]!r}"
        return found[-1]


@pytest.fixture
def botbox(transactional_db) -> Iterator[Any]:
    """`box = botbox(MyBot, OtherBot)`: run these bots (and @help) for this test."""
    boxes: list[BotBox] = []

    def make(*bots: type[Bot], include_help: bool = True) -> BotBox:
        box = BotBox(bots, include_help=include_help)
        boxes.append(box)
        return box

    yield make
    for box in boxes:
        box.close()
