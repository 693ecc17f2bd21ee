"""The alerts bot on real alert objects: Alertmanager posts through its receiver
URL, people ack/silence/escalate in the alert's thread or by id; escalation
pages the room's on-call person."""

from __future__ import annotations

import json
from datetime import date, time

from django.test import Client

from bots.builtin.alerts import AlertsBot
from bots.builtin.models import Page, Rotation, RotationMember
from bots.builtin.oncall import OncallBot
from chatserver.chat.models import Message
from chatserver.integrations import service
from chatserver.integrations.models import Alert
from tests.integrations.test_alerts import ALERTMANAGER


def _fire(admin, room):
    hook, raw = service.create_webhook(actor=admin.user, room_id=room.id,
                                       data={"name": "AM", "kind": "incoming"})
    resp = Client().post(f"/hooks/{raw}/alertmanager", data=json.dumps(ALERTMANAGER),
                         content_type="application/json")
    assert resp.status_code == 200, resp.content
    return Alert.objects.get()


def test_ack_silence_escalate_in_thread_and_by_id(botbox):
    box = botbox(AlertsBot, OncallBot)
    ann, ben = box.user("ann"), box.user("ben")
    ops = box.room("ops", admins=[ann], members=[ben], bots=["alerts", "oncall"])
    rot = Rotation.objects.create(name="primary", starts_on=date(2024, 1, 1),
                                  handoff=time(9), room=ops.room)
    RotationMember.objects.create(rotation=rot, user=ben.user, position=0)
    alert = _fire(ann, ops.room)

    ann.says(ops, "@alerts ack")  # not in a thread, no id
    ops.expect_bot(contains="Answer in the alert's thread")
    ann.says(ops, "@alerts ack", thread=alert.message_id)
    alert.refresh_from_db()
    assert alert.acked_by_id == ann.user.id
    assert "acked by" in Message.objects.get(id=alert.message_id).body

    ben.says(ops, f"@alerts silence 2h {alert.id}")
    alert.refresh_from_db()
    assert alert.silenced_until is not None and alert.silenced_by_id == ben.user.id

    ann.says(ops, "@alerts list")
    ops.expect_bot(contains=f"#{alert.id} firing · **HighLatency")

    ann.says(ops, "@alerts escalate", thread=alert.message_id)
    alert.refresh_from_db()
    assert alert.escalated_at is not None
    page = Page.objects.get()
    assert page.target_id == ben.user.id and page.rotation_id == rot.id
    assert Message.objects.filter(room__visibility="direct", room__memberships__user=ben.user,
                                  body__contains="alert escalated: HighLatency").exists()

    ann.says(ops, "@alerts ack 99999")
    ops.expect_bot(contains="There is no alert #99999 in this room.")
    ann.says(ops, "@alerts silence forever")
    ann.expect_ephemeral("Usage: `@alerts silence")
