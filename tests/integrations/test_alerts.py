"""Alert objects from Alertmanager and Grafana: one message per alert, edited in
place; thread lines on changes; ack, silence and escalate."""

from __future__ import annotations

import copy

import pytest
from django.test import Client

from chatserver.audit.models import AuditEntry
from chatserver.chat.errors import Forbidden, InvalidInput, NotFound
from chatserver.chat.models import Message
from chatserver.integrations import alerts
from chatserver.integrations.models import Alert, Delivery

from .conftest import hook_path, room_messages, send

ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}/{severity="page"}:{alertname="HighLatency"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "chat",
    "groupLabels": {"alertname": "HighLatency"},
    "commonLabels": {"alertname": "HighLatency", "job": "api", "severity": "page"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager.example.com:9093",
    "alerts": [
        {"status": "firing",
         "labels": {"alertname": "HighLatency", "instance": "api-1:9100", "job": "api",
                    "severity": "page"},
         "annotations": {"summary": "p99 latency above 2s"},
         "startsAt": "2026-01-05T10:00:00.000Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prometheus.example.com/graph?g0.expr=latency",
         "fingerprint": "c4b1e1f5a6e9f1a2"},
    ],
}


def with_alerts(status: str, *instances: tuple[str, str]) -> dict:
    payload = copy.deepcopy(ALERTMANAGER)
    payload["status"] = status
    template = payload["alerts"][0]
    payload["alerts"] = [
        {**template, "status": st, "labels": {**template["labels"], "instance": inst}}
        for inst, st in instances
    ]
    return payload


def replies(message_id: int) -> list[str]:
    return list(Message.objects.filter(thread_root_id=message_id).order_by("seq")
                .values_list("body", flat=True))


def test_first_event_posts_later_ones_edit_in_place(ops, make_hook):
    room = ops["room"]
    hook = make_hook(ops["admin"], room, name="Alertmanager")
    client = Client()
    assert send(client, hook_path(hook, "alertmanager"), ALERTMANAGER).status_code == 200
    [msg] = room_messages(room)
    assert msg.body.splitlines()[:2] == [
        "🔴 **FIRING** · **[HighLatency](http://alertmanager.example.com:9093)** (alertmanager)",
        "- 🔴 `instance=api-1:9100` — p99 latency above 2s",
    ]
    assert msg.body.splitlines()[2].startswith("Seen 1× · first ")

    # A second instance starts firing: edited in place, one thread line.
    two = with_alerts("firing", ("api-1:9100", "firing"), ("api-2:9100", "firing"))
    assert send(client, hook_path(hook, "alertmanager"), two).status_code == 200
    # Resolved: green, and the thread says so.
    done = with_alerts("resolved", ("api-1:9100", "resolved"), ("api-2:9100", "resolved"))
    assert send(client, hook_path(hook, "alertmanager"), done).status_code == 200

    [msg] = room_messages(room)
    assert msg.edited_at is not None
    lines = msg.body.splitlines()
    assert lines[0].startswith("✅ **RESOLVED** · **[HighLatency]")
    assert lines[1:3] == ["- ✅ `instance=api-1:9100` — p99 latency above 2s",
                          "- ✅ `instance=api-2:9100` — p99 latency above 2s"]
    assert lines[3].startswith("Seen 3× ")
    assert replies(msg.id) == ["🔴 2 firing now", "✅ resolved"]
    alert = Alert.objects.get()
    assert (alert.state, alert.count, alert.message_id) == ("resolved", 3, msg.id)
    assert alert.fingerprint.startswith("am:")

    # Firing again after resolution (a new startsAt, as Alertmanager sends it): red
    # again, and a thread line.
    refire = copy.deepcopy(ALERTMANAGER)
    refire["alerts"][0]["startsAt"] = "2026-01-05T11:00:00.000Z"
    assert send(client, hook_path(hook, "alertmanager"), refire).status_code == 200
    msg.refresh_from_db()
    assert msg.body.startswith("🔴 **FIRING**")
    assert replies(msg.id)[-1] == "🔴 firing again (seen 4×)"
    assert len(room_messages(room)) == 1


def test_a_storm_of_500_deliveries_is_one_message(ops, make_hook):
    room = ops["room"]
    hook = make_hook(ops["admin"], room)
    client = Client()
    for i in range(500):
        payload = copy.deepcopy(ALERTMANAGER)
        payload["alerts"][0]["annotations"]["summary"] = f"p99 latency above 2s ({i})"
        assert send(client, hook_path(hook, "alertmanager"), payload).status_code == 200
    [msg] = room_messages(room)
    assert "Seen 500× " in msg.body and "(499)" in msg.body
    assert replies(msg.id) == []  # the same alert kept firing: nothing new to say
    assert Alert.objects.get().count == 500
    assert Delivery.objects.filter(status="posted").count() == 500


def test_identical_retry_is_not_counted(ops, make_hook):
    hook = make_hook(ops["admin"], ops["room"])
    for _ in range(3):
        assert send(Client(), hook_path(hook, "alertmanager"), ALERTMANAGER).status_code == 200
    assert Alert.objects.get().count == 1


def test_grafana_unified_and_legacy(ops, make_hook):
    room = ops["room"]
    hook = make_hook(ops["admin"], room, name="Grafana")
    unified = {
        "receiver": "chat", "status": "firing", "orgId": 1, "version": "1",
        "groupKey": "{}:{alertname=\"DiskFull\"}", "title": "[FIRING:1] DiskFull",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "DiskFull", "grafana_folder": "infra", "host": "db-1",
                       "__alert_rule_uid__": "eb3c1dd0"},
            "annotations": {"summary": "Disk 95% full"},
            "startsAt": "2026-01-05T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example.com/alerting/grafana/eb3c1dd0/view",
            "fingerprint": "0f2a", "valueString": "[ var='B' value=95 ]",
            "panelURL": "https://grafana.example.com/d/abc?viewPanel=2"}],
    }
    client = Client()
    assert send(client, hook_path(hook, "grafana"), unified).status_code == 200
    resolved = copy.deepcopy(unified)
    resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
    assert send(client, hook_path(hook, "grafana"), resolved).status_code == 200
    legacy = {"dashboardId": 1, "ruleId": 12, "ruleName": "CPU high", "state": "alerting",
              "message": "CPU above 90%", "ruleUrl": "https://grafana.example.com/d/x",
              "evalMatches": [{"metric": "web-1", "value": 97, "tags": {}}], "title": "CPU"}
    assert send(client, hook_path(hook, "grafana"), legacy).status_code == 200
    assert send(client, hook_path(hook, "grafana"), {**legacy, "state": "ok"}).status_code == 200
    first, second = room_messages(room)
    assert first.body.startswith("✅ **RESOLVED** · **[DiskFull]"
                                 "(https://grafana.example.com/d/abc?viewPanel=2)** (grafana)")
    assert "`grafana_folder=infra host=db-1` — Disk 95% full" in first.body
    assert second.body.startswith("✅ **RESOLVED** · **[CPU high]")
    assert "`web-1` — 97" in second.body
    assert sorted(Alert.objects.values_list("fingerprint", flat=True)) == [
        "grafana:12", "grafana:eb3c1dd0"]


def test_alert_bodies_that_are_wrong(ops, make_hook):
    hook = make_hook(ops["admin"], ops["room"])
    client = Client()
    for fmt, payload, reason in [
        ("alertmanager", {"status": "firing"}, "alerts must be a non-empty list"),
        ("alertmanager", {**ALERTMANAGER, "status": "weird"}, "status must be firing or resolved"),
        ("alertmanager", {**ALERTMANAGER, "alerts": [{"status": "firing"}], "groupKey": ""},
         "groupKey"),
        ("grafana", {"title": "x"}, "ruleId and state"),
    ]:
        resp = send(client, hook_path(hook, fmt), payload)
        assert resp.status_code == 400, resp.content
        assert reason in resp.json()["error"]["message"]
    assert room_messages(ops["room"]) == [] and Alert.objects.count() == 0


def test_ack_silence_escalate(ops, make_hook, make_user, monkeypatch,
                             django_capture_on_commit_callbacks):
    room, mia = ops["room"], ops["member"]
    hook = make_hook(ops["admin"], room)
    client = Client()
    send(client, hook_path(hook, "alertmanager"), ALERTMANAGER)
    [msg] = room_messages(room)
    alert = alerts.alert_for_message(actor=mia, message_id=msg.id)

    alerts.ack(actor=mia, alert_id=alert.id)
    msg.refresh_from_db()
    assert "👀 acked by Mia" in msg.body
    alerts.silence(actor=mia, alert_id=alert.id, duration="1h30m")
    msg.refresh_from_db()
    assert "🔕 silenced until " in msg.body
    # While silenced, a change in what fires edits the message but adds no thread line.
    two = with_alerts("firing", ("api-1:9100", "firing"), ("api-9:9100", "firing"))
    send(client, hook_path(hook, "alertmanager"), two)
    assert not any("firing now" in r for r in replies(msg.id))

    paged = []
    monkeypatch.setattr(alerts, "_escalation_listeners", [])
    alerts.on_escalate(lambda a, who: paged.append((a.id, who.id)))
    with django_capture_on_commit_callbacks(execute=True):
        alerts.escalate(actor=mia, alert_id=alert.id)
    assert paged == [(alert.id, mia.id)]  # the on-call bot's hook, after commit
    thread = replies(msg.id)
    assert thread[0] == "👀 acked by Mia"
    assert thread[1].startswith("🔕 silenced by Mia until ")
    assert thread[-1] == "🚨 escalated by Mia: @room please look"
    assert Message.objects.get(body=thread[-1]).mentions_room
    assert set(AuditEntry.objects.filter(target=f"alert:{alert.id}")
               .values_list("action", flat=True)) == {
        "alert.acked", "alert.silenced", "alert.escalated"}

    # A reply in the alert's thread names the alert too (the bot's `ack` in a thread).
    reply = Message.objects.filter(thread_root_id=msg.id).first()
    assert alerts.alert_for_message(actor=mia, message_id=reply.id).id == alert.id

    outsider = make_user("olga")
    with pytest.raises(Forbidden):  # a public room she has not joined
        alerts.ack(actor=outsider, alert_id=alert.id)
    with pytest.raises(NotFound):
        alerts.ack(actor=mia, alert_id=987654)
    for bad in ("", "soon", "5x", "0m", "31d"):
        with pytest.raises(InvalidInput):
            alerts.silence(actor=mia, alert_id=alert.id, duration=bad)


def test_deleted_alert_message_is_posted_again(ops, make_hook, client_for):
    room, ada = ops["room"], ops["admin"]
    hook = make_hook(ada, room)
    send(Client(), hook_path(hook, "alertmanager"), ALERTMANAGER)
    [msg] = room_messages(room)
    assert client_for(ada).delete(f"/api/v1/messages/{msg.id}").status_code == 204
    resolved = with_alerts("resolved", ("api-1:9100", "resolved"))
    assert send(Client(), hook_path(hook, "alertmanager"), resolved).status_code == 200
    live = [m for m in room_messages(room) if not m.deleted]
    assert len(live) == 1 and live[0].body.startswith("✅ **RESOLVED**")
    assert Alert.objects.get().message_id == live[0].id
