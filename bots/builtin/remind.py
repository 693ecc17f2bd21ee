"""The remind bot: `@remind me|#room in 10m|at 17:00|every monday 9:00 <text>`.

Reminders are rows (they survive restarts); a schedule delivers the due ones,
to the person in a DM or to the room, and moves repeating ones to their next
time (cron expressions underneath: `every weekday 9:00` is `0 9 * * 1-5`).
Times of day are read in the caller's time zone (their profile's, else the
site's TIME_ZONE). A repeating reminder keeps the zone it was made in, so
`every monday 9:00` stays at 9:00 local time across daylight-saving changes.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bots.grammar import UsageError, format_time, parse_duration
from bots.sdk import Bot, CommandError, command, every
from chatserver.chat import access
from chatserver.chat.errors import ChatError
from chatserver.chat.models import Membership

from .models import Reminder

DAYS = {"monday": "1", "mon": "1", "tuesday": "2", "tue": "2", "wednesday": "3", "wed": "3",
        "thursday": "4", "thu": "4", "friday": "5", "fri": "5", "saturday": "6", "sat": "6",
        "sunday": "0", "sun": "0", "day": "*", "weekday": "1-5", "weekdays": "1-5"}
CLOCK = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?"
HELP = ("Say when: `in 10m`, `at 17:00`, `at 2026-12-24 09:00`, `tomorrow 9:00`, "
        "`every monday 9:00`, `every weekday 8:30`, `every day 18:00`, then the text.")


def _now() -> datetime:
    from bots.runtime import runtime

    return runtime.now()


def _clock(h: str, m: str | None, ampm: str | None) -> tuple[int, int]:
    hour, minute = int(h), int(m or 0)
    if ampm:
        if not 1 <= hour <= 12:
            raise UsageError(f"{h}{ampm} is not a time.")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise UsageError(f"{h}:{m or '00'} is not a time of day.")
    return hour, minute


def parse_when(spec: str, now: datetime, tz: str) -> tuple[datetime, str, str]:
    """(first due time, cron expression or "", the text) from the spec."""
    from croniter import croniter

    zone = ZoneInfo(tz)
    spec = spec.strip()
    low = spec.lower()
    if m := re.match(r"in\s+((?:\d+\s*[dhms]\s*)+)(?:\s+|$)(.*)$", low, re.DOTALL):
        delta = parse_duration(m.group(1).replace(" ", ""))
        if not timedelta(seconds=1) <= delta <= timedelta(days=366):
            raise UsageError("Remind within a year.")
        return now + delta, "", spec[m.start(2):]
    if m := re.match(rf"every\s+([a-z]+)\s+(?:at\s+)?{CLOCK}(?:\s+|$)(.*)$", low, re.DOTALL):
        day = DAYS.get(m.group(1))
        if day is None:
            raise UsageError(f"`{m.group(1)}` is not a day: use monday..sunday, day or weekday.")
        hour, minute = _clock(m.group(2), m.group(3), m.group(4))
        expr = f"{minute} {hour} * * {day}"
        first = croniter(expr, now.astimezone(zone)).get_next(datetime)
        return first, expr, spec[m.start(5):]
    if m := re.match(rf"(?:at\s+)?(\d{{4}}-\d{{2}}-\d{{2}})\s+{CLOCK}(?:\s+|$)(.*)$", low,
                     re.DOTALL):
        try:
            year, month, mday = (int(x) for x in m.group(1).split("-"))
            hour, minute = _clock(m.group(2), m.group(3), m.group(4))
            due = datetime(year, month, mday, hour, minute, tzinfo=zone)
        except ValueError:
            raise UsageError(f"{m.group(1)} is not a date.") from None
        if due <= now:
            raise UsageError("That time has passed.")
        return due, "", spec[m.start(5):]
    if m := re.match(rf"(at|tomorrow(?:\s+at)?)\s+{CLOCK}(?:\s+|$)(.*)$", low, re.DOTALL):
        hour, minute = _clock(m.group(2), m.group(3), m.group(4))
        local = now.astimezone(zone)
        due = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if m.group(1).startswith("tomorrow"):
            due = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0,
                                                      microsecond=0)
        elif due <= local:
            due += timedelta(days=1)
        return due, "", spec[m.start(5):]
    raise UsageError(HELP)


class RemindBot(Bot):
    """Reminders for you or a room: in 10m, at 17:00, every monday 9:00."""

    name = "remind"
    display_name = "Remind"

    @classmethod
    def find_command(cls, words):
        """`@remind #ops in 1h ...` is `@remind room #ops in 1h ...`."""
        if words and words[0].startswith("#"):
            return cls.spec.commands[("room",)], 0
        return super().find_command(words)

    @command("me <spec:rest>", examples=["me in 10m check the oven",
                                         "me every monday 9:00 write the report"])
    def me(self, ctx, spec):
        """Remind yourself (in a DM)."""
        self._create(ctx, None, spec)

    @command("room <where:room> <spec:rest>",
             examples=["#ops at 17:00 deploy freeze starts",
                       "room #ops every weekday 9:30 stand-up"])
    def room(self, ctx, where, spec):
        """Remind a room (you must be able to post there, and @remind must be in it)."""
        try:
            access.check_post(ctx.caller, access.access_room(ctx.caller, where.id))
        except ChatError:
            raise CommandError(f"You cannot post in #{where.name}.") from None
        if not Membership.objects.filter(room=where, user=ctx.bot_user).exists():
            raise CommandError(f"@remind is not in #{where.name}; a room admin can add it.")
        self._create(ctx, where, spec)

    def _create(self, ctx, room, spec) -> None:
        tz = ctx.tz
        due, cron, text = parse_when(spec, _now(), tz)
        text = text.strip()
        if not text:
            raise UsageError("What should I remind about? " + HELP)
        if Reminder.objects.filter(created_by=ctx.caller, active=True).count() >= 100:
            raise CommandError("You have 100 active reminders; cancel some first.")
        r = Reminder.objects.create(created_by=ctx.caller, room=room, text=text[:2000],
                                    due_at=due, cron=cron, tz=tz)
        whom = f"#{room.name}" if room else "you"
        when = format_time(due, tz) + (f", then on schedule `{cron}` ({tz})" if cron else "")
        ctx.reply(f"⏰ Reminder #{r.id}: I will remind {whom} {when}. "
                  f"(`@remind forget {r.id}` cancels it.)")

    @command("list", readonly=True)
    def list(self, ctx):
        """Your active reminders."""
        rows = list(Reminder.objects.filter(created_by=ctx.caller, active=True)
                    .select_related("room").order_by("due_at")[:50])
        if not rows:
            raise CommandError("You have no reminders.")
        ctx.ephemeral("\n".join(
            f"- #{r.id} {format_time(r.due_at, ctx.tz)}{' (repeats)' if r.cron else ''} → "
            f"{'#' + r.room.name if r.room else 'you'}: {r.text[:100]}" for r in rows))

    @command("forget <reminder_id:int>", examples=["forget 4"])
    def forget(self, ctx, reminder_id):
        """Cancel one of your reminders."""
        if not Reminder.objects.filter(id=reminder_id, created_by=ctx.caller,
                                       active=True).update(active=False):
            raise CommandError(f"You have no active reminder #{reminder_id}.")
        ctx.reply(f"Reminder #{reminder_id} cancelled.")

    @every("30s")
    def deliver(self, ctx):
        """Send the reminders that are due; repeating ones move to their next time."""
        from croniter import croniter

        if ctx.runtime.is_muted(ctx.handle):
            return  # muted for flooding: due reminders wait for the mute to end, none is lost
        now = _now()
        for r in list(Reminder.objects.filter(active=True, due_at__lte=now)
                      .select_related("created_by", "room")[:200]):
            if r.cron:
                nxt = croniter(r.cron, now.astimezone(ZoneInfo(r.tz))).get_next(datetime)
                claimed = Reminder.objects.filter(id=r.id, due_at=r.due_at).update(due_at=nxt)
            else:
                claimed = Reminder.objects.filter(id=r.id, active=True).update(active=False)
            if not claimed:
                continue  # another process took it
            try:
                if r.room is None:
                    ctx.dm(r.created_by, f"⏰ Reminder: {r.text}")
                else:
                    access.check_post(r.created_by, access.access_room(r.created_by, r.room.id))
                    ctx.send(r.room.id, f"⏰ Reminder from @{r.created_by.username}: {r.text}")
            except (ChatError, CommandError):
                Reminder.objects.filter(id=r.id).update(active=False)  # no longer allowed
