"""The poll bot: quick polls whose message shows the live count.

    @poll new Lunch? | pizza | sushi | thai     (or: new "Lunch?" pizza sushi thai)
    @poll vote 3 sushi      (or the option's number: vote 3 2)

One vote per person (voting again changes it); the poll message is edited in
place. Polls live in the bot's storage, one namespace per room.
"""

from __future__ import annotations

from bots.grammar import UsageError, tokenize
from bots.sdk import Bot, CommandError, command
from chatserver.chat import access
from chatserver.chat.models import Membership

MAX_OPTIONS = 10


def render(poll_id: int, poll: dict) -> str:
    votes = poll["votes"]
    total = len(votes)
    closed = " (closed)" if poll["closed"] else ""
    head = f"📊 **Poll #{poll_id}{closed}: {poll['question']}**"
    lines = [head]
    for i, option in enumerate(poll["options"], 1):
        n = sum(1 for v in votes.values() if v == i - 1)
        bar = "█" * round(10 * n / total) if total else ""
        lines.append(f"{i}. {option} — {n} {bar}".rstrip())
    lines.append(f"{total} vote{'s' if total != 1 else ''}" + (
        "" if poll["closed"] else f" · vote with `@poll vote {poll_id} <number or option>`"))
    return "\n".join(lines)


def parse_poll(text: str) -> tuple[str, list[str]]:
    if "|" in text:
        parts = [p.strip() for p in text.split("|")]
    else:
        parts = [t.text for t in tokenize(text)]
    question, options = parts[0], [o for o in parts[1:] if o]
    if not question or len(options) < 2:
        raise UsageError("A poll needs a question and at least two options: "
                         "`@poll new Lunch? | pizza | sushi`")
    if len(options) > MAX_OPTIONS:
        raise UsageError(f"At most {MAX_OPTIONS} options.")
    if len({o.lower() for o in options}) != len(options):
        raise UsageError("The options must differ.")
    return question[:300], [o[:100] for o in options]


class PollBot(Bot):
    """Quick polls: one vote each, live counts in the poll message."""

    name = "poll"
    display_name = "Poll"

    def _store(self, ctx):
        return ctx.store.scoped(f"room:{ctx.room.id}")

    def _get(self, ctx, poll_id: int) -> dict:
        poll = self._store(ctx).get(f"poll:{poll_id}")
        if poll is None:
            raise CommandError(f"There is no poll #{poll_id} here.")
        return poll

    @command("new <text:rest>", examples=["new Lunch? | pizza | sushi | thai",
                                          'new "Retro day?" thursday friday'])
    def new(self, ctx, text):
        """Start a poll: the question, then the options (separated by | or quoted)."""
        question, options = parse_poll(text)
        store = self._store(ctx)
        poll_id = store.update("next", lambda v: (v or 0) + 1)
        poll = {"question": question, "options": options, "votes": {}, "closed": False,
                "creator": ctx.caller.id, "message_id": None}
        msg = ctx.reply(render(poll_id, poll))
        poll["message_id"] = msg["id"]
        store.set(f"poll:{poll_id}", poll)

    @command("vote <poll_id:int> <choice:rest>", examples=["vote 3 sushi", "vote 3 2"])
    def vote(self, ctx, poll_id, choice):
        """Vote (again to change your vote)."""
        choice = choice.strip()
        poll = self._get(ctx, poll_id)
        options = poll["options"]
        if choice.isdigit() and 1 <= int(choice) <= len(options):
            index = int(choice) - 1
        else:
            index = next((i for i, o in enumerate(options) if o.lower() == choice.lower()), -1)
        if index < 0:
            raise UsageError(f"Poll #{poll_id} has no option {choice!r}; choose 1-"
                             f"{len(options)} or one of: {', '.join(options)}.")

        def cast(current):
            if current is None or current["closed"]:
                raise CommandError(f"Poll #{poll_id} is closed.")
            current["votes"][str(ctx.caller.id)] = index
            return current

        poll = self._store(ctx).update(f"poll:{poll_id}", cast)
        ctx.edit(poll["message_id"], render(poll_id, poll))
        ctx.ephemeral(f"You voted {options[index]!r} in poll #{poll_id}.")

    @command("close <poll_id:int>", examples=["close 3"])
    def close(self, ctx, poll_id):
        """Close a poll (its creator or a room admin)."""
        poll = self._get(ctx, poll_id)
        membership = Membership.objects.filter(room=ctx.room, user=ctx.caller).first()
        if poll["creator"] != ctx.caller.id and not access.is_room_admin(ctx.caller, membership):
            raise CommandError("Only the poll's creator or a room admin may close it.")
        poll = self._store(ctx).update(f"poll:{poll_id}", lambda p: {**p, "closed": True})
        ctx.edit(poll["message_id"], render(poll_id, poll))
        ctx.reply(render(poll_id, poll).replace("📊", "🏁", 1))
