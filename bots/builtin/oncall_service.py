"""Who is on call, and paging them (plain ORM code, used by several bots).

Shifts are computed on the rotation's wall clock: shift k starts at
`starts_on + k periods` at the handoff time, local time, so a daylight-saving
change never shifts the handoff hour. An Override covering an instant wins.
Pages are posted and DMed as the oncall bot; an unacknowledged page escalates
to the next person of the rotation (the oncall bot's schedule checks).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chatserver.accounts.models import User
from chatserver.chat import actions
from chatserver.chat.errors import ChatError
from chatserver.chat.models import Membership, Room

from .models import Override, Page, Period, Rotation

log = logging.getLogger(__name__)

MENTION = re.compile(r"(?<![\w@])@oncall-([a-z][a-z0-9_-]{0,39})\b", re.IGNORECASE)


def now() -> datetime:
    from bots.runtime import runtime

    return runtime.now()


@dataclass
class Shift:
    user: User
    starts: datetime
    ends: datetime
    override: bool = False


def _members(rotation: Rotation) -> list[User]:
    return [m.user for m in rotation.members.select_related("user").filter(user__is_active=True)]


def _length(rotation: Rotation) -> timedelta:
    return timedelta(days=7 if rotation.period == Period.WEEKLY else 1)


def scheduled(rotation: Rotation, at: datetime) -> Shift | None:
    """The regular shift covering `at` (overrides ignored)."""
    members = _members(rotation)
    if not members:
        return None
    zone = ZoneInfo(rotation.tz)
    local = at.astimezone(zone).replace(tzinfo=None)
    first = datetime.combine(rotation.starts_on, rotation.handoff)
    length = _length(rotation)
    k = (local - first) // length
    start = first + k * length
    return Shift(members[k % len(members)], start.replace(tzinfo=zone),
                 (start + length).replace(tzinfo=zone))


def on_call(rotation: Rotation, at: datetime | None = None) -> Shift | None:
    at = at or now()
    override = (Override.objects.filter(rotation=rotation, starts_at__lte=at, ends_at__gt=at)
                .select_related("user").order_by("-id").first())
    if override is not None:
        return Shift(override.user, override.starts_at, override.ends_at, override=True)
    return scheduled(rotation, at)


def next_on_call(rotation: Rotation, at: datetime | None = None) -> Shift | None:
    """The next regular shift after the current one."""
    current = scheduled(rotation, at or now())
    return None if current is None else scheduled(rotation, current.ends + timedelta(seconds=1))


def rotation_for_room(room: Room | None) -> Rotation | None:
    """The rotation whose team room this is; else the only rotation, if there is one."""
    if room is not None:
        found = Rotation.objects.filter(room=room).order_by("id").first()
        if found is not None:
            return found
    rotations = list(Rotation.objects.all()[:2])
    return rotations[0] if len(rotations) == 1 else None


def oncall_bot() -> User | None:
    from bots.runtime import runtime

    handle = runtime.sync_users().get("oncall")
    return handle.user if handle else None


def _post(bot: User, room_id: int, text: str, thread_id: int | None = None) -> bool:
    try:
        actions.post_message(actor=bot, room_id=room_id, body=text, thread_id=thread_id)
        return True
    except ChatError as exc:
        log.info("oncall bot could not post in room %s: %s", room_id, exc.message)
        return False


def _dm(bot: User, user: User, text: str) -> bool:
    try:
        room = actions.open_dm(actor=bot, user_ids=[user.id])
    except ChatError as exc:
        log.warning("oncall bot could not DM %s: %s", user.id, exc.message)
        return False
    return _post(bot, room.id, text)


def page(*, target: User, text: str, by: User | None, room: Room | None,
         rotation: Rotation | None, thread_id: int | None = None) -> Page:
    """Create a page and notify its target: a mention in `room` (if the bot is there)
    and a DM. It escalates after the rotation's escalate_minutes unless acked."""
    created = now()
    escalate_at = None
    if rotation is not None and rotation.escalate_minutes:
        escalate_at = created + timedelta(minutes=rotation.escalate_minutes)
    p = Page.objects.create(rotation=rotation, target=target, room=room, text=text[:2000],
                            created_by=by, created_at=created, notified=[target.id],
                            escalate_at=escalate_at)
    _notify(p, target, first=True, thread_id=thread_id)
    return p


def _notify(p: Page, user: User, *, first: bool, thread_id: int | None = None) -> None:
    bot = oncall_bot()
    if bot is None:
        log.warning("page %s not delivered: the oncall bot is not loaded", p.id)
        return
    who = f"@{p.created_by.username}" if p.created_by else "an alert"
    via = f" (on call for `{p.rotation.name}`)" if p.rotation else ""
    head = "🚨 Page" if first else "🚨 Escalated page"
    where = f" in #{p.room.name}" if p.room and p.room.visibility != "direct" else ""
    ack = f"Answer `@oncall ack {p.id}` (or `ack {p.id}` here)."
    if p.room is not None and Membership.objects.filter(room=p.room, user=bot).exists():
        _post(bot, p.room.id, f"{head} #{p.id} for @{user.username}{via} from {who}: "
                              f"{p.text}\n{ack}", thread_id)
    _dm(bot, user, f"{head} #{p.id} from {who}{where}{via}: {p.text}\n{ack}")


def ack(p: Page, user: User) -> bool:
    """Acknowledge; False when it was already acknowledged."""
    return bool(Page.objects.filter(id=p.id, acked_at__isnull=True).update(
        acked_by=user, acked_at=now(), escalate_at=None))


def escalate_due() -> int:
    """Page the next person for every unacknowledged page whose time is up."""
    count = 0
    for p in list(Page.objects.filter(acked_at__isnull=True, escalate_at__lte=now())
                  .select_related("rotation", "room", "created_by")):
        members = _members(p.rotation) if p.rotation else []
        ids = [m.id for m in members]
        last = p.notified[-1] if p.notified else None
        start = ids.index(last) + 1 if last in ids else 0
        following = [members[(start + i) % len(members)] for i in range(len(members))]
        nxt = next((m for m in following if m.id not in p.notified), None)
        if nxt is None or p.rotation is None:
            Page.objects.filter(id=p.id).update(escalate_at=None)  # nobody left to page
            continue
        p.notified = [*p.notified, nxt.id]
        p.escalate_at = now() + timedelta(minutes=p.rotation.escalate_minutes or 15)
        p.save(update_fields=["notified", "escalate_at"])
        _notify(p, nxt, first=False)
        count += 1
    return count


# --- @oncall-<rotation> mentions ------------------------------------------------------------


def on_message_posted(message: dict[str, Any]) -> None:
    """chat.hooks listener (writer's thread): hand messages with @oncall- mentions to
    the bot runtime's queue, which resolves who is on call now and pages them."""
    body = message.get("body") or ""
    if "@oncall-" not in body.lower() or message.get("author", {}).get("is_bot"):
        return
    names = {m.lower() for m in MENTION.findall(body)}
    if not names:
        return
    from bots.runtime import runtime

    runtime.enqueue(lambda: page_mentions(message, sorted(names)))


def page_mentions(message: dict[str, Any], names: list[str]) -> None:
    from bots.context import _check_may_dm

    if oncall_bot() is None:
        return
    author = User.objects.filter(id=message["author"]["id"]).first()
    room = Room.objects.filter(id=message["room"]).first()
    if author is None or room is None:
        return
    excerpt = message.get("body", "")[:500]
    thread = message.get("thread_id") or message["id"]
    for name in names:
        rotation = Rotation.objects.filter(name=name).first()
        shift = on_call(rotation) if rotation else None
        if shift is None:
            continue
        if shift.user.id != author.id:
            try:  # paged on the author's behalf: they must be allowed to DM that person
                _check_may_dm(author, shift.user.id)
            except ChatError:
                continue
        page(target=shift.user, text=excerpt, by=author, room=room, rotation=rotation,
             thread_id=thread)


def on_alert_escalated(alert: Any, actor: User) -> None:
    """integrations.alerts listener: an escalated alert pages the room's rotation.

    It runs from transaction.on_commit, which on SQLite still holds the process's
    writer lock (events.tx), so the paging (more writes) goes to the bot queue."""
    from bots.runtime import runtime

    runtime.enqueue(lambda: _page_for_alert(alert, actor))


def _page_for_alert(alert: Any, actor: User) -> None:
    room = Room.objects.filter(id=alert.room_id).first()
    rotation = rotation_for_room(room)
    shift = on_call(rotation) if rotation else None
    if shift is None:
        return
    page(target=shift.user, text=f"alert escalated: {alert.title}", by=actor, room=room,
         rotation=rotation, thread_id=alert.message_id)
