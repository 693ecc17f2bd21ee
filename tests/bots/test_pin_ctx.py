"""Bots pin and unpin with ctx.pin / ctx.unpin, on behalf of the caller: the bot
needs the right to pin in the message's room, and so does the person who asked."""

from __future__ import annotations

from bots.sdk import Bot, command
from chatserver.chat import actions
from chatserver.chat.models import Message

REFUSED = "You cannot pin or unpin that message, so the bot will not either."


class PinBot(Bot):
    """Pins messages."""

    name = "pinner"

    @command("pin <id:int>")
    def pin(self, ctx, id):
        """Pin message <id> (a sync handler)."""
        msg = ctx.pin(id)
        ctx.reply(f"Pinned {msg['id']}.")

    @command("unpin <id:int>")
    async def unpin(self, ctx, id):
        """Unpin message <id> (an async handler)."""
        msg = await ctx.unpin(id)
        await ctx.reply(f"Unpinned {msg['id']} (pinned_at={msg['pinned_at']}).")


def pinned(message_id: int) -> tuple[str | None, bool]:
    msg = Message.objects.select_related("pinned_by").get(id=message_id)
    return (msg.pinned_by.username if msg.pinned_by else None), msg.pinned_at is not None


def test_a_bot_pins_and_unpins_for_the_caller(botbox):
    box = botbox(PinBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["pinner"])
    note = actions.post_message(actor=alice.user, room_id=ops.id, body="freeze").message

    alice.says(ops, f"@pinner pin {note['id']}")
    ops.expect_bot(f"Pinned {note['id']}.")
    assert pinned(note["id"]) == ("pinner", True)
    alice.says(ops, f"@pinner pin {note['id']}")  # again: nothing changes
    assert pinned(note["id"]) == ("pinner", True)

    alice.says(ops, f"@pinner unpin {note['id']}")
    ops.expect_bot(f"Unpinned {note['id']} (pinned_at=None).")
    assert pinned(note["id"]) == (None, False)
    alice.says(ops, f"@pinner unpin {note['id']}")
    ops.expect_bot("The bot could not unpin: The message is not pinned.")


def test_the_bot_never_pins_where_the_caller_may_not(botbox):
    box = botbox(PinBot)
    alice, bob = box.user("alice"), box.user("bob")
    ops = box.room("ops", members=[alice, bob], bots=["pinner"])
    # The bot is in #secret, alice is not: her request must not borrow its rights.
    secret = box.room("secret", members=[bob], bots=["pinner"], visibility="private")
    hidden = actions.post_message(actor=bob.user, room_id=secret.id, body="vault key").message

    alice.says(ops, f"@pinner pin {hidden['id']}")
    assert ops.expect_bot(REFUSED).body == REFUSED
    assert pinned(hidden["id"]) == (None, False)
    # A message that does not exist gets the very same answer (nothing leaks).
    alice.says(ops, "@pinner pin 987654321")
    assert len([m for m in ops.bot_messages() if m.body == REFUSED]) == 2

    bob.says(ops, f"@pinner pin {hidden['id']}")  # bob is in #secret: fine
    assert pinned(hidden["id"]) == ("pinner", True)
    alice.says(ops, f"@pinner unpin {hidden['id']}")
    assert len([m for m in ops.bot_messages() if m.body == REFUSED]) == 3
    assert pinned(hidden["id"]) == ("pinner", True)


def test_the_bot_needs_its_own_right_to_pin(botbox):
    box = botbox(PinBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["pinner"])
    lounge = box.room("lounge", members=[alice])  # the bot is not in it
    chat = actions.post_message(actor=alice.user, room_id=lounge.id, body="hi").message
    alice.says(ops, f"@pinner pin {chat['id']}")
    ops.expect_bot("The bot could not pin: Room not found.")  # bots see only their rooms
    assert pinned(chat["id"]) == (None, False)
