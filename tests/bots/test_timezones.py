"""Per-person time zones in the bots: `remind ... at 17:00` and `every monday 9:00`
are read in the caller's zone (set with PATCH /api/v1/users/me), repeating
reminders keep their local time across daylight-saving changes, and oncall
shows shift times in the asker's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bots.builtin.models import Reminder, Rotation, RotationMember
from bots.builtin.oncall import OncallBot
from bots.builtin.remind import RemindBot
from bots.runtime import runtime
from chatserver.chat.models import Message

API = "/api/v1"


def set_zone(client_for, person, zone: str) -> None:
    resp = client_for(person.user).patch(f"{API}/users/me", {"timezone": zone}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["timezone"] == zone


def advance_to(box, when: datetime) -> None:
    seconds = int((when - runtime.now()).total_seconds())
    assert seconds > 0, (when, runtime.now())
    box.advance(f"{seconds}s")


def dm_bodies(person) -> list[str]:
    return list(Message.objects.filter(room__visibility="direct",
                                       room__memberships__user=person.user,
                                       author__username="remind")
                .order_by("seq").values_list("body", flat=True))


def test_remind_at_reads_the_callers_zone(botbox, client_for):
    box = botbox(RemindBot)
    nina, ulf = box.user("nina"), box.user("ulf")  # ulf keeps the site's zone (UTC)
    ops = box.room("ops", members=[nina, ulf], bots=["remind"])
    set_zone(client_for, nina, "America/New_York")
    box.travel_to(datetime(2027, 3, 4, 10, 30, tzinfo=UTC))  # a Thursday, 05:30 in New York

    nina.says(ops, "@remind me at 17:00 nina's tea")
    ops.expect_bot(contains="I will remind you Thu 2027-03-04 17:00 EST")
    ulf.says(ops, "@remind me at 17:00 ulf's tea")
    ops.expect_bot(contains="I will remind you Thu 2027-03-04 17:00 UTC")
    nina.says(ops, "@remind me tomorrow 9:00 standup notes")
    nina.says(ops, "@remind me at 2027-12-24 09:00 gifts")
    due = {r.text: r.due_at for r in Reminder.objects.all()}
    assert due == {"nina's tea": datetime(2027, 3, 4, 22, 0, tzinfo=UTC),
                   "ulf's tea": datetime(2027, 3, 4, 17, 0, tzinfo=UTC),
                   "standup notes": datetime(2027, 3, 5, 14, 0, tzinfo=UTC),
                   "gifts": datetime(2027, 12, 24, 14, 0, tzinfo=UTC)}
    nina.says(ops, "@remind list")
    listing = nina.expect_ephemeral("nina's tea")
    assert "Thu 2027-03-04 17:00 EST" in listing and "Fri 2027-12-24 09:00 EST" in listing

    advance_to(box, datetime(2027, 3, 4, 17, 1, tzinfo=UTC))
    assert dm_bodies(ulf) == ["⏰ Reminder: ulf's tea"]
    assert dm_bodies(nina) == []  # 12:01 in New York
    advance_to(box, datetime(2027, 3, 4, 22, 1, tzinfo=UTC))
    assert dm_bodies(nina) == ["⏰ Reminder: nina's tea"]


def test_weekly_reminder_keeps_local_time_across_dst(botbox, client_for):
    box = botbox(RemindBot)
    pia = box.user("pia")
    ops = box.room("ops", members=[pia], bots=["remind"])
    set_zone(client_for, pia, "Europe/Paris")
    box.travel_to(datetime(2027, 3, 17, 12, 0, tzinfo=UTC))  # summer time starts 2027-03-28

    pia.says(ops, "@remind #ops every monday 9:00 stand-up")
    ops.expect_bot(contains="I will remind #ops Mon 2027-03-22 09:00 CET, then on schedule "
                            "`0 9 * * 1` (Europe/Paris)")
    reminder = Reminder.objects.get()
    assert reminder.due_at == datetime(2027, 3, 22, 8, 0, tzinfo=UTC)

    def delivered() -> int:
        return sum(m.body == "⏰ Reminder from @pia: stand-up" for m in ops.bot_messages())

    advance_to(box, datetime(2027, 3, 22, 7, 59, tzinfo=UTC))
    assert delivered() == 0
    advance_to(box, datetime(2027, 3, 22, 8, 0, 30, tzinfo=UTC))  # 09:00 CET
    assert delivered() == 1
    reminder.refresh_from_db()
    assert reminder.due_at == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST

    advance_to(box, datetime(2027, 3, 29, 6, 59, tzinfo=UTC))  # 08:59 in Paris
    assert delivered() == 1
    advance_to(box, datetime(2027, 3, 29, 7, 0, 30, tzinfo=UTC))
    assert delivered() == 2
    reminder.refresh_from_db()
    assert reminder.due_at == datetime(2027, 4, 5, 7, 0, tzinfo=UTC) and reminder.active

    # Moving to another zone later changes how times are shown, not when it rings.
    set_zone(client_for, pia, "Asia/Tokyo")
    pia.says(ops, "@remind list")
    assert "Mon 2027-04-05 16:00 JST (repeats)" in pia.expect_ephemeral("stand-up")


def test_oncall_shows_times_in_the_askers_zone(botbox, client_for):
    box = botbox(OncallBot)
    pia, taro = box.user("pia"), box.user("taro")
    ops = box.room("ops", members=[pia, taro], bots=["oncall"])
    set_zone(client_for, pia, "Europe/Paris")
    set_zone(client_for, taro, "Asia/Tokyo")
    rot = Rotation.objects.create(name="primary", period="weekly", handoff=time(9, 0),
                                  tz="Europe/Paris", starts_on=date(2027, 1, 4))
    for i, person in enumerate([pia, taro]):
        RotationMember.objects.create(rotation=rot, user=person.user, position=i)
    box.travel_to(datetime(2027, 3, 24, 12, 0, tzinfo=UTC))  # week of Mon 2027-03-22

    pia.says(ops, "@oncall who")
    ops.expect_bot(contains="**primary**: @taro until Mon 2027-03-29 09:00 CEST; "
                            "next @pia from Mon 2027-03-29 09:00 CEST")
    taro.says(ops, "@oncall who")
    ops.expect_bot(contains="**primary**: @taro until Mon 2027-03-29 16:00 JST; "
                            "next @pia from Mon 2027-03-29 16:00 JST")
    taro.says(ops, "@oncall take primary 2h")
    ops.expect_bot(contains="@taro has `primary` until Wed 2027-03-24 23:00 JST.")
