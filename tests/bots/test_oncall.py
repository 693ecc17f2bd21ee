"""The oncall bot through the harness: rotations, who, page + escalation, ack,
overrides and @oncall-<rotation> mentions."""

from __future__ import annotations

from datetime import date, time

from bots.builtin import oncall_service as svc
from bots.builtin.models import Page, Rotation, RotationMember
from bots.builtin.oncall import OncallBot
from chatserver.accounts.models import Role
from chatserver.chat.models import Message


def _rotation(name, people, *, period="weekly", starts_on=None, room=None, minutes=15):
    rot = Rotation.objects.create(name=name, period=period, handoff=time(9, 0), tz="UTC",
                                  starts_on=starts_on or date(2020, 1, 6),
                                  escalate_minutes=minutes, room=room)
    for i, person in enumerate(people):
        RotationMember.objects.create(rotation=rot, user=person.user, position=i)
    return rot


def _dm_bodies(person):
    return list(Message.objects.filter(room__visibility="direct",
                                       room__memberships__user=person.user,
                                       author__username="oncall").values_list("body", flat=True))


def test_shift_math_daily_and_weekly(botbox):
    box = botbox(OncallBot)
    a, b, c = box.user("ann"), box.user("ben"), box.user("cat")
    rot = _rotation("primary", [a, b, c], period="daily", starts_on=date(2024, 3, 1))
    from datetime import UTC, datetime

    assert svc.scheduled(rot, datetime(2024, 3, 1, 9, 0, tzinfo=UTC)).user == a.user
    assert svc.scheduled(rot, datetime(2024, 3, 2, 8, 59, tzinfo=UTC)).user == a.user
    assert svc.scheduled(rot, datetime(2024, 3, 2, 9, 0, tzinfo=UTC)).user == b.user
    assert svc.scheduled(rot, datetime(2024, 3, 4, 10, 0, tzinfo=UTC)).user == a.user
    rot.period = "weekly"
    rot.save()
    assert svc.scheduled(rot, datetime(2024, 3, 8, 10, 0, tzinfo=UTC)).user == b.user
    nxt = svc.next_on_call(rot, datetime(2024, 3, 8, 10, 0, tzinfo=UTC))
    assert nxt.user == c.user and nxt.starts == datetime(2024, 3, 15, 9, 0, tzinfo=UTC)


def test_who_page_escalate_ack(botbox):
    box = botbox(OncallBot)
    a, b = box.user("ann"), box.user("ben")
    ops = box.room("ops", members=[a, b], bots=["oncall"])
    rot = _rotation("primary", [a, b])
    first = svc.on_call(rot).user
    second = b.user if first == a.user else a.user
    people = {a.user: a, b.user: b}

    a.says(ops, "@oncall who")
    ops.expect_bot(contains=f"**primary**: @{first.username} until")
    ops.expect_bot(contains=f"next @{second.username} from")

    a.says(ops, "@oncall page primary the API is down")
    ops.expect_bot(contains="Page #")
    assert any("the API is down" in t for t in _dm_bodies(people[first]))
    page = Page.objects.get()
    assert page.notified == [first.id]

    box.advance("10m")  # not yet
    assert Page.objects.get().notified == [first.id]
    box.advance("6m")
    assert Page.objects.get().notified == [first.id, second.id]
    assert any("Escalated page" in t for t in _dm_bodies(people[second]))
    ops.expect_bot(contains=f"Escalated page #{page.id} for @{second.username}")

    people[second].says(ops, f"@oncall ack {page.id}")
    ops.expect_bot(contains=f"Page #{page.id} acknowledged by @{second.username}")
    box.advance("30m")  # acked: no more escalation
    assert Page.objects.get().notified == [first.id, second.id]
    people[second].says(ops, f"@oncall ack {page.id}")
    assert "no open page" in ops.bot_messages()[-1].body


def test_page_a_person_and_unknown_rotation(botbox):
    box = botbox(OncallBot)
    a, b = box.user("ann"), box.user("ben")
    ops = box.room("ops", members=[a, b], bots=["oncall"])
    a.says(ops, "@oncall page @ben please look at the queue")
    ops.expect_bot(contains="Page #")
    assert any("please look at the queue" in t for t in _dm_bodies(b))
    a.says(ops, "@oncall page nosuch hello")
    ops.expect_bot(contains="There is no rotation `nosuch`")


def test_override_and_take(botbox):
    box = botbox(OncallBot)
    a, b = box.user("ann"), box.user("ben")
    boss = box.user("boss", role=Role.ADMIN)
    ops = box.room("ops", members=[a, b, boss], bots=["oncall"])
    rot = _rotation("primary", [a, b])
    other = b if svc.on_call(rot).user == a.user else a
    other.says(ops, "@oncall take primary 2h")
    ops.expect_bot(contains=f"@{other.user.username} has `primary` until")
    assert svc.on_call(rot).user == other.user and svc.on_call(rot).override
    box.advance("3h")
    assert not svc.on_call(rot).override
    a.says(ops, "@oncall override primary @boss 1h")
    a.expect_ephemeral("needs role:admin")
    boss.says(ops, "@oncall override primary @boss 1h")
    a.says(ops, "@oncall who primary")
    ops.expect_bot(contains="@boss (override)")


def test_oncall_mention_pages_whoever_is_on_call(botbox):
    box = botbox(OncallBot)
    a, b, c = box.user("ann"), box.user("ben"), box.user("cat")
    ops = box.room("ops", members=[a, b, c], bots=["oncall"])
    quiet = box.room("quiet", members=[a, b])  # the bot is not in this room
    rot = _rotation("db", [b, c])
    target = svc.on_call(rot).user
    person = b if target == b.user else c
    msg = a.says(ops, "disk full on db-3, @oncall-db can you look?")
    assert any("disk full on db-3" in t for t in _dm_bodies(person))
    reply = ops.expect_bot(contains="Page #")
    assert reply.thread_root_id == msg["id"]
    a.says(quiet, "@oncall-db second one")
    assert sum("second one" in t for t in _dm_bodies(person)) == 1
    assert not Message.objects.filter(room=quiet.room, author__is_bot=True).exists()
    a.says(ops, "@oncall-nosuch hello")  # unknown rotation: nothing happens
    assert Page.objects.count() == 2


def test_guest_mention_reaches_only_people_they_share_a_room_with(botbox):
    box = botbox(OncallBot)
    gus = box.user("gus", role=Role.GUEST)
    a, b = box.user("ann"), box.user("ben")
    ops = box.room("ops", members=[gus, a], bots=["oncall"])
    _rotation("far", [b])  # ben shares no room with the guest
    _rotation("near", [a])
    gus.says(ops, "@oncall-far help")
    assert not _dm_bodies(b) and not Page.objects.exists()
    gus.says(ops, "@oncall-near help")
    assert any("help" in t for t in _dm_bodies(a))
