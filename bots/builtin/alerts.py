"""The alerts bot: the chat end of the Alertmanager/Grafana/GitHub receivers.

Alert messages are posted (and edited in place) by the room's webhook; this
bot acts on them. Answer in an alert's thread (`@alerts ack`) or name the
alert (`@alerts ack 7`; `@alerts list` shows the ids). `escalate` also pages
whoever is on call for the room (see oncall_service.on_alert_escalated).
"""

from __future__ import annotations

from bots.sdk import Bot, CommandError, command
from chatserver.chat.errors import ChatError
from chatserver.integrations import alerts as alert_objects
from chatserver.integrations.models import Alert


def _alert(ctx, alert_id):
    try:
        if alert_id is not None:
            alert = Alert.objects.filter(id=alert_id, room=ctx.room).first()
            if alert is None:
                raise CommandError(f"There is no alert #{alert_id} in this room.")
            return alert
        if ctx.thread_id:
            return alert_objects.alert_for_message(actor=ctx.caller, message_id=ctx.thread_id)
    except ChatError as exc:
        raise CommandError(exc.message) from None
    raise CommandError("Answer in the alert's thread, or name it: `@alerts ack <id>` "
                       "(`@alerts list` shows the ids).")


def _do(fn, **kwargs):
    try:
        return fn(**kwargs)
    except ChatError as exc:
        raise CommandError(exc.message) from None


class AlertsBot(Bot):
    """Acknowledge, silence and escalate the alerts posted by this room's webhooks."""

    name = "alerts"
    display_name = "Alerts"

    @command("list [--all]", readonly=True, examples=["list", "list --all"])
    def list(self, ctx, all=False):
        """The room's firing alerts (with --all, resolved ones too)."""
        qs = Alert.objects.filter(room=ctx.room).select_related("acked_by").order_by("-last_seen")
        if not all:
            qs = qs.filter(state="firing")
        rows = list(qs[:20])
        if not rows:
            raise CommandError("No firing alerts here." if not all else "No alerts here.")
        lines = []
        for a in rows:
            marks = []
            if a.acked_by is not None:
                marks.append(f"acked by @{a.acked_by.username}")
            if a.silenced_until and a.silenced_until > alert_objects.timezone.now():
                marks.append("silenced")
            if a.escalated_at:
                marks.append("escalated")
            extra = f" ({', '.join(marks)})" if marks else ""
            lines.append(f"- #{a.id} {a.state} · **{a.title}** · seen {a.count}×{extra}")
        ctx.reply("\n".join(lines))

    @command("ack [<alert_id:int>]", examples=["ack", "ack 7"])
    def ack(self, ctx, alert_id=None):
        """Say you are looking at it."""
        alert = _alert(ctx, alert_id)
        _do(alert_objects.ack, actor=ctx.caller, alert_id=alert.id)

    @command("silence <length:duration> [<alert_id:int>]", examples=["silence 2h", "silence 30m 7"])
    def silence(self, ctx, length, alert_id=None):
        """Stop the thread notes of a firing alert for a while."""
        alert = _alert(ctx, alert_id)
        _do(alert_objects.silence, actor=ctx.caller, alert_id=alert.id,
            duration=f"{int(length.total_seconds())}s")

    @command("escalate [<alert_id:int>]", examples=["escalate", "escalate 7"])
    def escalate(self, ctx, alert_id=None):
        """Call for help: notes it on the alert and pages whoever is on call."""
        alert = _alert(ctx, alert_id)
        _do(alert_objects.escalate, actor=ctx.caller, alert_id=alert.id)
