"""The oncall bot: rotations, who is on call, paging with escalation.

Shifts hand over at the rotation's local time (its own time zone); the times
the bot shows are in the asker's time zone (their profile's, else the site's).
"""

from __future__ import annotations

from datetime import timedelta

from bots.context import _check_may_dm
from bots.grammar import format_time
from bots.sdk import Bot, CommandError, command, every
from chatserver.accounts.models import User
from chatserver.chat.errors import ChatError

from . import oncall_service as svc
from .models import Override, Page, Rotation


def _rotation(name: str) -> Rotation:
    rotation = Rotation.objects.filter(name=name.lower().removeprefix("oncall-")).first()
    if rotation is None:
        names = ", ".join(Rotation.objects.order_by("name").values_list("name", flat=True))
        raise CommandError(f"There is no rotation `{name}`." +
                           (f" Rotations: {names}." if names else " An admin can add one."))
    return rotation


class OncallBot(Bot):
    """On-call rotations: who is on call, paging with escalation, overrides."""

    name = "oncall"
    display_name = "On-call"

    @command("who [<rotation>]", readonly=True, examples=["who", "who primary"])
    def who(self, ctx, rotation=None):
        """Who is on call now and next (every rotation, or one)."""
        rotations = [_rotation(rotation)] if rotation else list(Rotation.objects.order_by("name"))
        if not rotations:
            raise CommandError("No rotations yet. An admin can add one.")
        lines = []
        for rot in rotations:
            now, nxt = svc.on_call(rot), svc.next_on_call(rot)
            if now is None:
                lines.append(f"- **{rot.name}**: nobody (no members)")
                continue
            note = " (override)" if now.override else ""
            line = (f"- **{rot.name}**: @{now.user.username}{note} until "
                    f"{format_time(now.ends, ctx.tz)}")
            if nxt is not None:
                line += f"; next @{nxt.user.username} from {format_time(nxt.starts, ctx.tz)}"
            lines.append(line)
        ctx.reply("\n".join(lines))

    @command("page <target> <text:rest>",
             examples=["page primary the API is down", "page @alice can you look at #ops?"])
    def page(self, ctx, target, text):
        """Page a rotation's on-call person (or one person): a mention and a DM;
        it escalates to the next person if nobody acknowledges."""
        rotation = None
        if target.startswith("@"):
            user = User.objects.filter(username__iexact=target[1:], is_active=True,
                                       is_bot=False).first()
            if user is None:
                raise CommandError(f"There is no user {target}.")
        else:
            rotation = _rotation(target)
            shift = svc.on_call(rotation)
            if shift is None:
                raise CommandError(f"Nobody is in rotation `{rotation.name}`.")
            user = shift.user
        if ctx.caller.id != user.id:
            try:  # the bot pages on the caller's behalf: they must be able to DM them
                _check_may_dm(ctx.caller, user.id)
            except ChatError:
                raise CommandError(f"You cannot message @{user.username}.") from None
        p = svc.page(target=user, text=text, by=ctx.caller, room=ctx.room, rotation=rotation,
                     thread_id=ctx.thread_id)
        if not (ctx.room and ctx.room.memberships.filter(user=ctx.bot_user).exists()):
            ctx.ephemeral(f"Paged @{user.username} (page #{p.id}).")

    @command("ack [<page_id:int>]", run="everyone", examples=["ack", "ack 12"])
    def ack(self, ctx, page_id=None):
        """Acknowledge a page sent to you (your newest open one by default)."""
        pages = Page.objects.filter(acked_at__isnull=True).order_by("-id")
        if page_id is not None:
            pages = pages.filter(id=page_id)
        p = next((x for x in pages[:200] if ctx.caller.id in x.notified), None)
        if p is None:
            raise CommandError("You have no open page" + (f" #{page_id}." if page_id else "."))
        if not svc.ack(p, ctx.caller):
            raise CommandError(f"Page #{p.id} was already acknowledged.")
        ctx.reply(f"👀 Page #{p.id} acknowledged by @{ctx.caller.username}.")

    @command("override <rotation> <who:user> <length:duration>", run="role:admin",
             examples=["override primary @bob 8h"])
    def override(self, ctx, rotation, who, length):
        """Let someone cover a rotation from now on, for a while."""
        rot = _rotation(rotation)
        start = svc.now()
        Override.objects.create(rotation=rot, user=who, starts_at=start,
                                ends_at=start + length, created_by=ctx.caller)
        ctx.reply(f"@{who.username} covers `{rot.name}` until "
                  f"{format_time(start + length, ctx.tz)}.")

    @command("take <rotation> <length:duration>", examples=["take primary 2h"])
    def take(self, ctx, rotation, length):
        """Take a rotation's pager yourself for a while (you must be in the rotation)."""
        rot = _rotation(rotation)
        if not rot.members.filter(user=ctx.caller).exists():
            raise CommandError(f"You are not in rotation `{rot.name}`.")
        if length > timedelta(days=14):
            raise CommandError("Take it for at most 14 days.")
        start = svc.now()
        Override.objects.create(rotation=rot, user=ctx.caller, starts_at=start,
                                ends_at=start + length, created_by=ctx.caller)
        ctx.reply(f"@{ctx.caller.username} has `{rot.name}` until "
                  f"{format_time(start + length, ctx.tz)}.")

    @every("30s")
    def escalations(self, ctx):
        svc.escalate_due()
