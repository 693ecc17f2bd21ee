"""Alert objects: one message per alert, edited in place as events arrive.

The first event for a fingerprint posts a message; later ones edit it (state,
count, last seen) and add a line to its thread only when something a reader
cares about changed (state, or which alerts of a group fire), so a storm of
identical notifications is one message with a rising count. `ack`,
`silence` and `escalate` are the functions the alerts bot's commands call.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from chatserver.accounts.models import User
from chatserver.audit import log as audit
from chatserver.chat import access, actions
from chatserver.chat.errors import InvalidInput, NotFound
from chatserver.chat.models import Message
from chatserver.events.tx import write_transaction

from .alertformats import FIRING, RESOLVED, AlertEvent
from .models import Alert, Webhook

log = logging.getLogger(__name__)

EscalationListener = Callable[[Alert, User], None]
_escalation_listeners: list[EscalationListener] = []


def on_escalate(listener: EscalationListener) -> EscalationListener:
    """Register `listener(alert, actor)`, called after an escalation commits (the
    on-call bot pages whoever is on call from here)."""
    if listener not in _escalation_listeners:
        _escalation_listeners.append(listener)
    return listener


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def render(alert: Alert) -> str:
    detail = alert.detail
    firing = alert.state == FIRING
    head = "🔴 **FIRING**" if firing else "✅ **RESOLVED**"
    title = alert.title
    if detail.get("link"):
        title = f"[{title}]({detail['link']})"
    lines = [f"{head} · **{title}** ({alert.source})"]
    items = detail.get("items") or []
    for item in items[:10]:
        dot = "🔴" if item["status"] == FIRING else "✅"
        text = " — ".join(p for p in (f"`{item['name']}`" if item["name"] else "",
                                      item["summary"]) if p)
        if text:
            lines.append(f"- {dot} {text}")
    if len(items) > 10:
        lines.append(f"- … and {len(items) - 10} more")
    lines.append(f"Seen {alert.count}× · first {_when(alert.first_seen)} · "
                 f"last {_when(alert.last_seen)}")
    status = []
    if alert.acked_by_id and alert.acked_by is not None:
        status.append(f"👀 acked by {alert.acked_by.name}")
    if alert.silenced_until and alert.silenced_until > timezone.now():
        status.append(f"🔕 silenced until {_when(alert.silenced_until)}")
    if alert.escalated_at:
        status.append(f"🚨 escalated {_when(alert.escalated_at)}")
    if status:
        lines.append(" · ".join(status))
    return "\n".join(lines)


def _firing_names(detail: dict[str, Any]) -> set[str]:
    return {i["name"] for i in detail.get("items") or [] if i["status"] == FIRING}


def _detail(event: AlertEvent) -> dict[str, Any]:
    return {"link": event.link,
            "items": [{"status": i.status, "name": i.name, "summary": i.summary}
                      for i in event.items]}


def apply_event(hook: Webhook, event: AlertEvent) -> list[int]:
    """Create or update the alert object for one event; return the message ids written.

    Runs inside the receiver's transaction, which holds the hook's row lock, so
    events for one hook apply one at a time.
    """
    now = timezone.now()
    bot = hook.bot_user
    alert = (Alert.objects.select_for_update(of=("self",)).select_related("acked_by")
             .filter(room_id=hook.room_id, fingerprint=event.fingerprint).first())
    written: list[int] = []
    if alert is None:
        alert = Alert(hook=hook, room_id=hook.room_id, fingerprint=event.fingerprint,
                      source=event.source, title=event.title, state=event.state,
                      detail=_detail(event), count=1, first_seen=now, last_seen=now)
        msg = actions.post_message(actor=bot, room_id=hook.room_id, body=render(alert)).message
        alert.message_id = msg["id"]
        alert.save()
        return [msg["id"]]
    before_state, before_firing = alert.state, _firing_names(alert.detail)
    alert.state = event.state
    alert.title = event.title
    alert.detail = _detail(event)
    alert.count += 1
    alert.last_seen = now
    note = ""
    if before_state == RESOLVED and event.state == FIRING:
        note = f"🔴 firing again (seen {alert.count}×)"
        alert.acked_by, alert.acked_at, alert.escalated_at = None, None, None
    elif before_state == FIRING and event.state == RESOLVED:
        note = "✅ resolved"
    elif event.state == FIRING and _firing_names(alert.detail) != before_firing:
        note = f"🔴 {len(_firing_names(alert.detail))} firing now"
    silenced = alert.silenced_until is not None and alert.silenced_until > now
    if alert.hook_id != hook.id:
        alert.hook = hook  # a newer hook in the room took this alert over
    message_id = _show(alert, bot)
    written.append(message_id)
    if note and not (silenced and event.state == FIRING):
        reply = actions.post_message(actor=bot, room_id=alert.room_id, body=note,
                                     thread_id=message_id).message
        written.append(reply["id"])
    alert.save()
    return written


def _show(alert: Alert, bot: User) -> int:
    """Edit the alert's message in place; post a new one if it was deleted (or was
    written by another hook's bot, which only that bot could edit)."""
    if alert.message_id is not None and Message.objects.filter(
            id=alert.message_id, deleted=False, author_id=bot.id).exists():
        actions.edit_message(actor=bot, message_id=alert.message_id, body=render(alert))
        return alert.message_id
    msg = actions.post_message(actor=bot, room_id=alert.room_id, body=render(alert)).message
    alert.message_id = msg["id"]
    return msg["id"]


# --- commands (the alerts bot calls these) -------------------------------------------------


def alert_for_message(*, actor: User, message_id: int) -> Alert:
    """The alert whose message (or thread) this is, if the caller may see the room."""
    msg, _ = access.access_message(actor, message_id)
    root = msg.thread_root_id or msg.id
    alert = Alert.objects.filter(message_id=root).first()
    if alert is None:
        raise NotFound("That message is not an alert.")
    return alert


def _locked(actor: User, alert_id: int) -> Alert:
    alert = (Alert.objects.select_for_update(of=("self",))
             .select_related("hook__bot_user", "acked_by").filter(id=alert_id).first())
    if alert is None:
        raise NotFound("Alert not found.")
    try:
        room_access = access.access_member(actor, alert.room_id)
    except NotFound:
        raise NotFound("Alert not found.") from None
    access.check_post(actor, room_access)
    return alert


def _update(alert: Alert, actor: User, note: str, action: str,
            detail: dict[str, Any] | None = None) -> None:
    bot = alert.hook.bot_user
    message_id = _show(alert, bot)
    alert.save()
    actions.post_message(actor=bot, room_id=alert.room_id, body=note, thread_id=message_id)
    audit.record(actor=actor, action=action, target=f"alert:{alert.id}", room=alert.room,
                 detail=detail or {})


def ack(*, actor: User, alert_id: int) -> Alert:
    with write_transaction():
        alert = _locked(actor, alert_id)
        alert.acked_by, alert.acked_at = actor, timezone.now()
        _update(alert, actor, f"👀 acked by {actor.name}", "alert.acked")
    return alert


_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: object) -> timedelta:
    """`30m`, `2h`, `1h30m`, `1d` -> timedelta (at most 30 days)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("Give a duration like 30m, 2h or 1d.", fields={"duration": "required"})
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise InvalidInput(f"{text!r} is not a duration like 30m, 2h or 1h30m.",
                           fields={"duration": "invalid"})
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if not 0 < seconds <= 30 * 86400:
        raise InvalidInput("A silence lasts between 1 second and 30 days.",
                           fields={"duration": "out of range"})
    return timedelta(seconds=seconds)


def silence(*, actor: User, alert_id: int, duration: object) -> Alert:
    length = parse_duration(duration)
    with write_transaction():
        alert = _locked(actor, alert_id)
        alert.silenced_until = timezone.now() + length
        alert.silenced_by = actor
        _update(alert, actor, f"🔕 silenced by {actor.name} until {_when(alert.silenced_until)}",
                "alert.silenced", {"seconds": int(length.total_seconds())})
    return alert


def escalate(*, actor: User, alert_id: int) -> Alert:
    with write_transaction():
        alert = _locked(actor, alert_id)
        alert.escalated_at = timezone.now()
        _update(alert, actor, f"🚨 escalated by {actor.name}: @room please look",
                "alert.escalated")
        transaction.on_commit(lambda: _notify_escalation(alert, actor))
    return alert


def _notify_escalation(alert: Alert, actor: User) -> None:
    for listener in list(_escalation_listeners):
        try:
            listener(alert, actor)
        except Exception:
            log.exception("escalation listener %r failed", listener)


def message_of(alert: Alert) -> Message | None:
    return Message.objects.filter(id=alert.message_id).first() if alert.message_id else None
