"""The remind and poll bots through the harness."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bots.builtin.models import Reminder
from bots.builtin.poll import PollBot
from bots.builtin.remind import RemindBot, parse_when
from bots.grammar import UsageError
from chatserver.chat.models import Message

NOW = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize("spec,due,cron,text", [
    ("in 10m tea", datetime(2026, 3, 4, 10, 40, tzinfo=UTC), "", "tea"),
    ("in 1h30m Tea Time", datetime(2026, 3, 4, 12, 0, tzinfo=UTC), "", "Tea Time"),
    ("at 17:00 go home", datetime(2026, 3, 4, 17, 0, tzinfo=UTC), "", "go home"),
    ("at 9:00 early", datetime(2026, 3, 5, 9, 0, tzinfo=UTC), "", "early"),
    ("at 5pm x", datetime(2026, 3, 4, 17, 0, tzinfo=UTC), "", "x"),
    ("tomorrow 9:15 y", datetime(2026, 3, 5, 9, 15, tzinfo=UTC), "", "y"),
    ("at 2026-12-24 09:00 gifts", datetime(2026, 12, 24, 9, 0, tzinfo=UTC), "", "gifts"),
    ("every monday 9:00 report", datetime(2026, 3, 9, 9, 0, tzinfo=UTC), "0 9 * * 1", "report"),
    ("every weekday 8:30 stand-up", datetime(2026, 3, 5, 8, 30, tzinfo=UTC), "30 8 * * 1-5",
     "stand-up"),
])
def test_parse_when(spec, due, cron, text):
    assert parse_when(spec, NOW, "UTC") == (due, cron, text)


@pytest.mark.parametrize("spec,tz,due", [
    # 09:00 in Paris is 08:00 UTC in winter, 07:00 in summer; New York is UTC-4 in summer.
    ("every monday 9:00 x", "Europe/Paris", datetime(2026, 3, 9, 8, 0, tzinfo=UTC)),
    ("at 17:00 x", "America/New_York", datetime(2026, 3, 4, 22, 0, tzinfo=UTC)),
    ("at 2026-07-01 9:00 x", "Europe/Paris", datetime(2026, 7, 1, 7, 0, tzinfo=UTC)),
    ("at 2026-07-01 9:00 x", "America/New_York", datetime(2026, 7, 1, 13, 0, tzinfo=UTC)),
    ("tomorrow 6:00 x", "Asia/Tokyo", datetime(2026, 3, 4, 21, 0, tzinfo=UTC)),
])
def test_parse_when_in_a_zone(spec, tz, due):
    assert parse_when(spec, NOW, tz)[0] == due


@pytest.mark.parametrize("spec", ["soon tea", "at 25:00 x", "every blursday 9:00 x",
                                  "at 2020-01-01 10:00 past", "in 400d x"])
def test_parse_when_refuses(spec):
    with pytest.raises(UsageError):
        parse_when(spec, NOW, "UTC")


def test_remind_me_room_and_every(botbox):
    box = botbox(RemindBot)
    ann, ben = box.user("ann"), box.user("ben")
    ops = box.room("ops", members=[ann, ben], bots=["remind"])
    lonely = box.room("lonely", members=[ann])  # @remind is not here
    secret = box.room("secret", visibility="private")  # ann cannot see it

    ann.says(ops, "@remind me in 10m check the oven")
    ops.expect_bot(contains="⏰ Reminder #")
    ann.says(ops, "@remind #ops in 20m deploy freeze starts")
    ann.says(ops, "@remind room #ops every day 9:00 stand-up")
    assert Reminder.objects.filter(active=True).count() == 3
    ann.says(ops, "@remind #lonely in 5m x")
    ops.expect_bot(contains="@remind is not in #lonely")
    ann.says(ops, f"@remind room #{secret.room.name} in 5m x")
    ann.expect_ephemeral("no room")
    ann.says(ops, "@remind me whenever x")
    ann.expect_ephemeral("Say when")

    box.advance("11m")
    dm = Message.objects.filter(room__visibility="direct", room__memberships__user=ann.user,
                                author__username="remind")
    assert [m.body for m in dm] == ["⏰ Reminder: check the oven"]
    assert not [m for m in ops.bot_messages() if "deploy freeze" in m.body
                and m.body.startswith("⏰ Reminder from")]
    box.advance("10m")
    ops.expect_bot(contains="⏰ Reminder from @ann: deploy freeze starts")
    box.advance("1d")
    box.advance("1d")
    assert len([m for m in ops.bot_messages() if m.body.endswith("stand-up")
                and "Reminder from" in m.body]) == 2

    ann.says(ops, "@remind list")
    listing = ann.expect_ephemeral("(repeats)")
    rid = Reminder.objects.get(active=True).id
    assert f"#{rid}" in listing
    ben.says(ops, f"@remind forget {rid}")
    ops.expect_bot(contains=f"You have no active reminder #{rid}")
    ann.says(ops, f"@remind forget {rid}")
    assert not Reminder.objects.filter(active=True).exists()
    assert lonely


def test_reminders_wait_while_the_bot_is_muted(botbox):
    """A mute (flooding) delays reminders; it used to cancel them, repeating ones too."""
    from datetime import timedelta

    from bots.models import BotState
    from bots.runtime import runtime

    box = botbox(RemindBot)
    ann = box.user("ann")
    ops = box.room("ops", members=[ann], bots=["remind"])
    ann.says(ops, "@remind #ops every day 9:00 stand-up")
    ann.says(ops, "@remind me in 5m tea")
    BotState.objects.update_or_create(bot=box.bots["remind"], defaults={
        "muted_until": runtime.now() + timedelta(days=2)})
    box.advance("1d")
    assert not [m for m in ops.bot_messages() if "Reminder from" in m.body]
    assert Reminder.objects.filter(active=True).count() == 2
    box.advance("1d1h")  # the mute is over
    ops.expect_bot(contains="⏰ Reminder from @ann: stand-up")
    dm = Message.objects.filter(room__visibility="direct", author__username="remind")
    assert [m.body for m in dm] == ["⏰ Reminder: tea"]
    assert Reminder.objects.filter(active=True, cron="0 9 * * *").exists()


def test_poll(botbox):
    box = botbox(PollBot)
    ann, ben, cat = box.user("ann"), box.user("ben"), box.user("cat")
    ops = box.room("ops", members=[ann, ben, cat], bots=["poll"])
    ann.says(ops, "@poll new Lunch? | pizza | sushi | thai")
    card = ops.expect_bot(contains="📊 **Poll #1: Lunch?**")
    ben.says(ops, "@poll vote 1 sushi")
    cat.says(ops, "@poll vote 1 2")
    ann.says(ops, "@poll vote 1 PIZZA")
    ann.says(ops, "@poll vote 1 sushi")  # changed her mind
    body = Message.objects.get(id=card.id).body
    assert "1. pizza — 0" in body and "2. sushi — 3 ██████████" in body and "3 votes" in body
    ben.expect_ephemeral("You voted 'sushi' in poll #1.")
    cat.says(ops, "@poll vote 1 ramen")
    cat.expect_ephemeral("has no option 'ramen'")
    ben.says(ops, "@poll close 1")
    ops.expect_bot(contains="Only the poll's creator")
    ann.says(ops, "@poll close 1")
    assert "(closed)" in Message.objects.get(id=card.id).body
    ops.expect_bot(contains="🏁 **Poll #1 (closed): Lunch?**")
    cat.says(ops, "@poll vote 1 thai")
    ops.expect_bot(contains="Poll #1 is closed.")
    ann.says(ops, '@poll new "Retro day?" thursday friday')
    ops.expect_bot(contains="📊 **Poll #2: Retro day?**")
    ann.says(ops, "@poll new just one | option")
    ann.expect_ephemeral("at least two options")
    ann.says(ops, "@poll vote 9 x")
    ops.expect_bot(contains="There is no poll #9 here.")
