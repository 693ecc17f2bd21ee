"""The incident bot: declare, track and close incidents, each in its own room.

`declare` opens #inc-<id> (created by the caller, so it is their room), invites
the on-call person of the room's rotation, posts and pins a summary message that
is edited in place on every change and shows it in the room topic. The pin stays
after `resolve`: the summary then tells the outcome to whoever opens the room.
Every change is an IncidentEvent; `timeline` merges them, the room's history and
the messages people pinned into a Markdown post-incident timeline that is saved
on the incident and posted.
A schedule nudges incident rooms that have been quiet for a while.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from django.conf import settings

from bots.sdk import Bot, CommandError, command, every
from chatserver.accounts.models import User
from chatserver.chat import actions
from chatserver.chat.errors import ChatError
from chatserver.chat.models import Message

from . import oncall_service as svc
from .models import Incident, IncidentEvent, Severity

SEVS = ",".join(Severity.values)
STATUSES = ("investigating", "identified", "monitoring", "resolved")
ROLES = "commander,comms,ops,scribe"


def _fmt(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _incident(ctx) -> Incident:
    incident = Incident.objects.filter(room=ctx.room).first()
    if incident is None:
        raise CommandError("This is not an incident room; use it in #inc-<id>.")
    return incident


def _event(incident: Incident, kind: str, text: str, actor: User | None) -> None:
    IncidentEvent.objects.create(incident=incident, kind=kind, text=text, actor=actor,
                                 created_at=svc.now())


def summary(incident: Incident) -> str:
    icon = "✅" if incident.status == "resolved" else "🚨"
    lines = [f"{icon} **{incident.label}: {incident.title}**",
             f"Severity **{incident.sev.upper()}** · status **{incident.status}** · "
             f"declared {_fmt(incident.created_at)}"
             + (f" by @{incident.created_by.username}" if incident.created_by else "")]
    if incident.roles:
        users = {u.id: u.username for u in User.objects.filter(id__in=incident.roles.values())}
        lines.append(" · ".join(f"{role}: @{users.get(uid, '?')}"
                                for role, uid in sorted(incident.roles.items())))
    last = incident.events.filter(kind="status").order_by("-created_at", "-id").first()
    if last is not None:
        lines.append(f"Latest: {last.text} ({_fmt(last.created_at)})")
    if incident.resolved_at:
        lines.append(f"Resolved {_fmt(incident.resolved_at)} after "
                     f"{_duration(incident.resolved_at - incident.created_at)}.")
    return "\n".join(lines)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes} min"


def _refresh(ctx, incident: Incident) -> None:
    """Edit the summary message in place and mirror the headline in the topic."""
    if incident.summary_message_id:
        with suppress(CommandError):  # deleted: the timeline still has everything
            ctx.edit(incident.summary_message_id, summary(incident))
    with suppress(ChatError):  # only room admins may change the topic; fine without
        actions.update_room(actor=ctx.caller, room_id=ctx.room.id, changes={
            "topic": f"{incident.label} · {incident.sev.upper()} · {incident.status} · "
                     f"{incident.title}"[:250]})


class IncidentBot(Bot):
    """Declare and run incidents: a room per incident, status, roles, timeline."""

    name = "incident"
    display_name = "Incident"

    @command(f"declare <sev:choice({SEVS})> <title:rest>",
             examples=["declare sev2 checkout is failing"])
    def declare(self, ctx, sev, title):
        """Open #inc-<id>, page and invite on-call, post and pin the status summary."""
        title = " ".join(title.split())[:200]
        if not title:
            raise CommandError("Give the incident a title.")
        now = svc.now()
        incident = Incident.objects.create(title=title, sev=sev, created_by=ctx.caller,
                                           declared_in=ctx.room, created_at=now,
                                           roles={"commander": ctx.caller.id})
        try:
            room = actions.create_room(actor=ctx.caller, name=f"inc-{incident.id}",
                                       topic=f"{incident.label} · {sev.upper()} · {title}"[:250])
        except ChatError as exc:
            incident.delete()
            raise CommandError(f"Could not open the incident room: {exc.message}") from None
        incident.room = room
        incident.save(update_fields=["room"])
        rotation = svc.rotation_for_room(ctx.room)
        shift = svc.on_call(rotation) if rotation else None
        invite = [ctx.bot_user.id] + ([shift.user.id] if shift else [])
        actions.invite(actor=ctx.caller, room_id=room.id, user_ids=invite)
        _event(incident, "declared", f"{sev.upper()} declared by @{ctx.caller.username}: "
                                     f"{title}", ctx.caller)
        card = actions.post_message(actor=ctx.bot_user, room_id=room.id,
                                    body=summary(incident)).message
        incident.summary_message_id = card["id"]
        incident.save(update_fields=["summary_message_id"])
        # Pinned for good: after resolve it shows the outcome to whoever opens the room.
        with suppress(CommandError):  # the incident runs fine without the pin
            ctx.pin(card["id"])
        if shift is not None and shift.user.id != ctx.caller.id:
            svc.page(target=shift.user, text=f"{incident.label} ({sev}) {title} — join "
                                             f"#{room.name}", by=ctx.caller, room=room,
                     rotation=rotation)
            _event(incident, "paged", f"paged @{shift.user.username} (on call)", ctx.caller)
        ctx.reply(f"🚨 {incident.label} ({sev.upper()}) declared: {title} → #{room.name}")

    @command("status [<text:rest>]", examples=["status", "status rolled back, error rate "
                                                         "falling"])
    def status(self, ctx, text=None):
        """Post a status update (or show the summary), e.g. identified/monitoring notes."""
        incident = _incident(ctx)
        if not text:
            ctx.reply(summary(incident))
            return
        word = text.split()[0].lower().rstrip(":")
        if word in STATUSES[:-1]:
            incident.status = word
            incident.save(update_fields=["status"])
        _event(incident, "status", text, ctx.caller)
        _refresh(ctx, incident)
        ctx.reply(f"📣 {incident.label} status: {text}")
        if incident.declared_in_id and incident.declared_in_id != incident.room_id:
            with suppress(CommandError):  # the caller cannot post there: neither does the bot
                ctx.send(incident.declared_in_id, f"📣 {incident.label} ({incident.title}): "
                                                  f"{text}")

    @command(f"sev <sev:choice({SEVS})>", examples=["sev sev1"])
    def sev(self, ctx, sev):
        """Change the severity."""
        incident = _incident(ctx)
        old, incident.sev = incident.sev, sev
        incident.save(update_fields=["sev"])
        _event(incident, "sev", f"severity {old.upper()} → {sev.upper()}", ctx.caller)
        _refresh(ctx, incident)
        ctx.reply(f"{incident.label} severity is now {sev.upper()} (was {old.upper()}).")

    @command(f"assign <role:choice({ROLES})> <who:user>", examples=["assign comms @bob"])
    def assign(self, ctx, role, who):
        """Give someone an incident role (they are invited to the room)."""
        incident = _incident(ctx)
        if who.is_bot:
            raise CommandError("Roles go to people.")
        try:
            actions.invite(actor=ctx.caller, room_id=ctx.room.id, user_ids=[who.id])
        except ChatError as exc:
            raise CommandError(f"Could not add @{who.username}: {exc.message}") from None
        incident.roles = {**incident.roles, role: who.id}
        incident.save(update_fields=["roles"])
        _event(incident, "assign", f"{role}: @{who.username}", ctx.caller)
        _refresh(ctx, incident)
        ctx.reply(f"@{who.username} is {role} of {incident.label}.")

    @command("note <text:rest>", examples=["note customer X reports timeouts"])
    def note(self, ctx, text):
        """Add a note to the timeline."""
        incident = _incident(ctx)
        _event(incident, "note", text, ctx.caller)
        ctx.reply(f"📝 Noted for the {incident.label} timeline.")

    @command("resolve [<text:rest>]", examples=["resolve fixed by rollback"])
    def resolve(self, ctx, text=None):
        """Close the incident."""
        incident = _incident(ctx)
        if incident.status == "resolved":
            raise CommandError(f"{incident.label} is already resolved.")
        incident.status, incident.resolved_at = "resolved", svc.now()
        incident.save(update_fields=["status", "resolved_at"])
        _event(incident, "resolved", text or "resolved", ctx.caller)
        _refresh(ctx, incident)
        took = _duration(incident.resolved_at - incident.created_at)
        ctx.reply(f"✅ {incident.label} resolved after {took}. "
                  "`@incident timeline` writes the post-incident timeline.")
        if incident.declared_in_id and incident.declared_in_id != incident.room_id:
            with suppress(CommandError):
                ctx.send(incident.declared_in_id, f"✅ {incident.label} ({incident.title}) "
                                                  f"resolved after {took}.")

    @command("timeline", readonly=True, run="room:member", ask="room:member")
    def timeline(self, ctx):
        """Write the Markdown post-incident timeline from the room's history; it is saved
        on the incident and posted here."""
        incident = _incident(ctx)
        text = build_timeline(incident, ctx.bot_user)
        incident.timeline = text
        incident.save(update_fields=["timeline"])
        ctx.reply(text)

    @every("1m")
    def quiet_rooms(self, ctx):
        """Nudge incident rooms where nobody has written for a while."""
        quiet = timedelta(minutes=settings.CHAT.get("INCIDENT_QUIET_MINUTES", 30))
        now = svc.now()
        for incident in Incident.objects.exclude(status="resolved").exclude(room=None):
            assert incident.room_id is not None
            last = (Message.objects.filter(room_id=incident.room_id, author__is_bot=False,
                                           deleted=False)
                    .order_by("-seq").values_list("created_at", flat=True).first())
            last = max(x for x in (last, incident.created_at) if x is not None)
            if now - last < quiet:
                continue
            if incident.last_nudged_at and incident.last_nudged_at > last:
                continue  # once per quiet stretch
            Incident.objects.filter(id=incident.id).update(last_nudged_at=now)
            minutes = int((now - last).total_seconds() // 60)
            try:
                ctx.send(incident.room_id, f"⏰ {incident.label} has been quiet for {minutes} "
                                           "min. Post an update: `@incident status ...` "
                                           "(or `@incident resolve`).")
            except CommandError:
                continue


def build_timeline(incident: Incident, bot: User) -> str:
    """Events (status changes, roles, notes), the room's messages and the pins people
    made (at the time they pinned), oldest first. Commands to this bot are left out:
    their effect is an event already; so is the bot's own pin of the summary."""
    rows: list[tuple] = []
    for ev in incident.events.select_related("actor"):
        rows.append((ev.created_at, 0, f"**{ev.kind}** — {ev.text}"))
    pins = (Message.objects.filter(room=incident.room, deleted=False, pinned_at__isnull=False)
            .exclude(pinned_by=bot).select_related("author", "pinned_by").order_by("pinned_at"))
    for m in pins[:100]:
        assert m.pinned_at is not None
        who = f"@{m.pinned_by.username}" if m.pinned_by else "someone"
        body = " ".join(m.body.split())
        rows.append((m.pinned_at, 0, f"**pinned** — {who} pinned @{m.author.username}'s "
                                     f"message: {body[:300]}"))
    msgs = (Message.objects.filter(room=incident.room, deleted=False, thread_root=None)
            .select_related("author").order_by("seq"))
    for m in msgs[:2000]:
        body = " ".join(m.body.split())
        if m.author_id == bot.id or body.lower().startswith(("@incident", "/incident")):
            continue
        who = f"@{m.author.username}" + (" (bot)" if m.author.is_bot else "")
        rows.append((m.created_at, 1, f"{who}: {body[:300]}"))
    rows.sort(key=lambda r: (r[0], r[1]))
    end = incident.resolved_at
    lines = [f"# {incident.label} post-incident timeline: {incident.title}", "",
             f"- Severity: {incident.sev.upper()}",
             f"- Status: {incident.status}",
             f"- Declared: {_fmt(incident.created_at)}"]
    if end:
        lines.append(f"- Resolved: {_fmt(end)} (duration {_duration(end - incident.created_at)})")
    if incident.roles:
        users = {u.id: u.username for u in User.objects.filter(id__in=incident.roles.values())}
        lines.append("- Roles: " + ", ".join(f"{r} @{users.get(u, '?')}"
                                             for r, u in sorted(incident.roles.items())))
    lines += ["", "## Timeline (UTC)", ""]
    lines += [f"- {when.strftime('%H:%M:%S')} {text}" for when, _, text in rows]
    lines += ["", "## Follow-ups", "", "- [ ] Root cause:", "- [ ] Action items:"]
    return "\n".join(lines)
