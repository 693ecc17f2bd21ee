"""Incoming webhooks over HTTP: management API, the Slack-compatible receiver,
idempotency, limits, kept deliveries and replay."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.core.management import call_command
from django.test import Client

from chatserver.audit.models import AuditEntry
from chatserver.chat.models import Membership, Message
from chatserver.integrations.models import Delivery, Webhook

from .conftest import API, hook_path, room_messages, send


def test_create_list_and_revoke(ops, make_hook, client_for):
    room, ada = ops["room"], ops["admin"]
    hook = make_hook(ada, room, name="Deploys")
    assert hook["url"] == f"http://testserver/hooks/{hook['token']}"
    assert hook["token"].startswith("wh_") and hook["kind"] == "incoming"
    stored = Webhook.objects.get(id=hook["id"])
    assert hook["token"] not in (stored.token_digest, stored.secret)  # kept hashed
    bot = stored.bot_user
    assert bot.is_bot and bot.display_name == "Deploys"
    assert Membership.objects.filter(room=room, user=bot).exists()

    listed = client_for(ada).get(f"{API}/rooms/{room.id}/webhooks").json()
    assert [h["id"] for h in listed["results"]] == [hook["id"]]
    assert "token" not in listed["results"][0] and listed["results"][0]["url"] is None

    assert client_for(ada).delete(f"{API}/rooms/{room.id}/webhooks/{hook['id']}").status_code == 204
    resp = send(Client(), hook_path(hook), {"text": "after revoke"})
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    bot.refresh_from_db()
    assert not bot.is_active
    assert client_for(ada).get(f"{API}/rooms/{room.id}/webhooks").json()["results"] == []
    actions = list(AuditEntry.objects.filter(target=f"webhook:{hook['id']}")
                   .values_list("action", flat=True))
    assert sorted(actions) == ["webhook.created", "webhook.revoked"]


def test_only_room_admins_manage_hooks(ops, make_hook, client_for):
    room, mia = ops["room"], ops["member"]
    resp = client_for(mia).post(f"{API}/rooms/{room.id}/webhooks", {"name": "x"}, format="json")
    assert resp.status_code == 403
    hook = make_hook(ops["admin"], room)
    for method, path in (("get", f"{API}/rooms/{room.id}/webhooks"),
                         ("delete", f"{API}/rooms/{room.id}/webhooks/{hook['id']}"),
                         ("get", f"{API}/rooms/{room.id}/webhooks/{hook['id']}/deliveries")):
        assert getattr(client_for(mia), method)(path).status_code == 403
    assert Webhook.objects.filter(revoked_at=None).count() == 1


def test_create_rejects_bad_input(ops, client_for):
    room, ada = ops["room"], ops["admin"]
    url = f"{API}/rooms/{room.id}/webhooks"
    cases = [
        ({"kind": "incoming"}, "name"),
        ({"name": "x", "kind": "sideways"}, "kind"),
        ({"name": "x", "kind": "outgoing", "trigger_words": ["go"]}, "url"),
        ({"name": "x", "kind": "outgoing", "url": "ftp://example.com/", "trigger_words": ["go"]},
         "url"),
        ({"name": "x", "kind": "outgoing", "url": "http://127.0.0.1:9/",
          "trigger_words": ["go"]}, "url"),
        ({"name": "x", "kind": "outgoing", "url": "https://example.com/", "trigger_words": []},
         "trigger_words"),
        ({"name": "x", "kind": "command", "url": "https://example.com/", "command": "two words"},
         "command"),
    ]
    for body, field in cases:
        resp = client_for(ada).post(url, body, format="json")
        assert resp.status_code == 400, (body, resp.content)
        assert field in resp.json()["error"]["fields"], (body, resp.json())
    assert Webhook.objects.count() == 0


def test_slack_json_posts_as_the_hook_bot(ops, make_hook):
    room = ops["room"]
    hook = make_hook(ops["admin"], room, name="Builds")
    resp = send(Client(), hook_path(hook), {
        "text": "Build <https://ci.example.com/42|#42> finished &amp; <!channel> look",
        "username": "jenkins", "icon_emoji": ":robot:", "channel": "#elsewhere",
    })
    assert resp.status_code == 200 and resp.content == b"ok"
    [msg] = room_messages(room)
    assert msg.author_id == Webhook.objects.get(id=hook["id"]).bot_user_id
    assert msg.body.splitlines() == [
        ":robot: **jenkins**",
        "Build [#42](https://ci.example.com/42) finished & @room look",
    ]
    assert 'href="https://ci.example.com/42"' in msg.html
    assert msg.mentions_room  # <!channel> notifies the room, as it does in Slack


def test_slack_attachments_render_compactly(ops, make_hook):
    room = ops["room"]
    hook = make_hook(ops["admin"], room)
    payload = {"attachments": [{
        "fallback": "Deploy failed", "color": "danger", "pretext": "Production deploy",
        "title": "api v1.4.2", "title_link": "https://deploy.example.com/7",
        "text": "Rolled back", "footer": "deploybot",
        "fields": [{"title": "Env", "value": "prod", "short": True},
                   {"title": "Region", "value": "eu-west", "short": True},
                   {"title": "Error", "value": "health check timed out", "short": False}],
    }, {"color": "#36a64f", "text": "second"}]}
    assert send(Client(), hook_path(hook), payload).status_code == 200
    [msg] = room_messages(room)
    assert msg.body.splitlines() == [
        "Production deploy",
        "> 🔴 **[api v1.4.2](https://deploy.example.com/7)**",
        "> Rolled back",
        "> **Env**: prod · **Region**: eu-west",
        "> **Error**: health check timed out",
        "> _deploybot_",
        "> 🟢 second",
    ]
    assert "<blockquote>" in msg.html and "<strong>Env</strong>" in msg.html


def test_slack_form_encoded_payload(ops, make_hook):
    room = ops["room"]
    hook = make_hook(ops["admin"], room)
    form = urlencode({"payload": json.dumps({"text": "from a form: a=b&c"})})
    resp = send(Client(), hook_path(hook), raw=form,
                content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200
    assert [m.body for m in room_messages(room)] == ["from a form: a=b&c"]


def test_bad_token_and_bad_bodies(ops, make_hook):
    room = ops["room"]
    hook = make_hook(ops["admin"], room)
    client = Client()
    resp = send(client, "/hooks/wh_not-a-token", {"text": "hi"})
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    cases = [
        (b"{not json", "application/json", "not valid JSON"),
        (b"", "application/json", "empty"),
        (b"[1, 2]", "application/json", "JSON object"),
        (b'{"username": "x"}', "application/json", "no text"),
        (b'{"text": 5, "attachments": "no"}', "application/json", "attachments must be a list"),
        (b'{"attachments": [{"fields": [3]}]}', "application/json", "fields[0]"),
        (b"text=hello", "application/x-www-form-urlencoded", "payload field"),
        (b"\xff\xfe", "application/json", "UTF-8"),
        # Escapes that decode to what no message can hold (PostgreSQL refuses NUL,
        # UTF-8 a lone surrogate): refused up front, not a 500 at the insert.
        (b'{"text": "a\\u0000b"}', "application/json", "NUL"),
        (b'{"text": "x \\ud800 y"}', "application/json", "surrogate"),
        (urlencode({"payload": '{"text": "a\\u0000b"}'}).encode(),
         "application/x-www-form-urlencoded", "NUL"),
    ]
    for raw, ctype, reason in cases:
        resp = send(client, hook_path(hook), raw=raw, content_type=ctype)
        assert resp.status_code == 400, (raw, resp.content)
        assert reason in resp.json()["error"]["message"], (raw, resp.json())
    assert room_messages(room) == []
    # Each bad body is kept (failed, with its reason) for the hook's admins.
    failed = Delivery.objects.filter(hook_id=hook["id"], status="failed").count()
    assert failed == len(cases)
    assert send(client, hook_path(hook, "nope"), {"text": "x"}).status_code == 404
    assert client.get(hook_path(hook)).status_code == 405


def test_too_large_body(ops, make_hook, settings):
    hook = make_hook(ops["admin"], ops["room"])
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    resp = send(Client(), hook_path(hook), {"text": "x" * 2000})
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "too_large"
    assert room_messages(ops["room"]) == []


def test_long_text_is_truncated_not_refused(ops, make_hook):
    hook = make_hook(ops["admin"], ops["room"])
    assert send(Client(), hook_path(hook), {"text": "y" * 20_000}).status_code == 200
    [msg] = room_messages(ops["room"])
    assert len(msg.body) <= 10_000 and msg.body.endswith("(truncated)")


def test_retry_of_same_body_or_same_id_posts_once(ops, make_hook):
    room = ops["room"]
    hook = make_hook(ops["admin"], room)
    client = Client()
    first = send(client, hook_path(hook), {"text": "disk full"})
    again = send(client, hook_path(hook), {"text": "disk full"})
    assert first.status_code == again.status_code == 200
    assert "X-Duplicate-Delivery" in again
    for _ in range(2):
        resp = send(client, hook_path(hook), {"text": "keyed"}, HTTP_IDEMPOTENCY_KEY="k-1")
        assert resp.status_code == 200
    # The same id with another body is still the same delivery.
    send(client, hook_path(hook), {"text": "keyed, resent"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert [m.body for m in room_messages(room)] == ["disk full", "keyed"]
    assert Delivery.objects.get(hook_id=hook["id"], delivery_id="k-1").duplicates == 2


def test_failed_delivery_is_handled_again_on_retry(ops, make_hook, client_for):
    room, ada = ops["room"], ops["admin"]
    hook = make_hook(ada, room)
    client_for(ada).patch(f"{API}/rooms/{room.id}", {"archived": True}, format="json")
    resp = send(Client(), hook_path(hook), {"text": "queued"}, HTTP_X_DELIVERY_ID="d-9")
    assert resp.status_code == 403
    assert Delivery.objects.get(delivery_id="d-9").status == "failed"
    client_for(ada).patch(f"{API}/rooms/{room.id}", {"archived": False}, format="json")
    resp = send(Client(), hook_path(hook), {"text": "queued"}, HTTP_X_DELIVERY_ID="d-9")
    assert resp.status_code == 200
    assert [m.body for m in room_messages(room)] == ["queued"]
    assert Delivery.objects.filter(delivery_id="d-9").count() == 1


def test_rate_limited_with_retry_after(ops, make_hook, settings, frozen_clock):
    room = ops["room"]
    hook = make_hook(ops["admin"], room)
    settings.CHAT = {**settings.CHAT, "WEBHOOK_RATE": (3, 60)}
    statuses = [send(Client(), hook_path(hook), {"text": f"n{i}"}).status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    resp = send(Client(), hook_path(hook), {"text": "again"})
    assert resp.status_code == 429 and int(resp["Retry-After"]) == 25
    assert resp.json()["error"]["code"] == "rate_limited"
    assert len(room_messages(room)) == 3


def test_deliveries_to_an_archived_room_are_refused_with_the_reason(ops, make_hook,
                                                                    client_for):
    """Every format and replay: 403 saying the room is archived, nothing posted or
    edited (an alert that already has its message stays as it was), the delivery kept
    as failed with that reason, so it can be replayed once the room is open again."""
    from .test_alerts import ALERTMANAGER, with_alerts

    room, ada = ops["room"], ops["admin"]
    slack = make_hook(ada, room, name="Slack tool")
    am = make_hook(ada, room, name="Alertmanager")
    assert send(Client(), hook_path(am, "alertmanager"), ALERTMANAGER).status_code == 200
    [alert_msg] = room_messages(room)
    client_for(ada).patch(f"{API}/rooms/{room.id}", {"archived": True}, format="json")
    before = [(m.id, m.body, m.edited_at) for m in Message.objects.order_by("id")]

    refused = [
        send(Client(), hook_path(slack), {"text": "into the archive"}),
        send(Client(), hook_path(slack, "github"), {"zen": "x"}, HTTP_X_GITHUB_EVENT="ping"),
        send(Client(), hook_path(am, "alertmanager"),
             with_alerts("resolved", ("api-1:9100", "resolved"))),
        send(Client(), hook_path(am, "grafana"), {"status": "firing", "alerts": []}),
    ]
    for resp in refused:
        assert resp.status_code == 403
        assert resp.json()["error"] == {"code": "forbidden",
                                        "message": "The room is archived.", "fields": {}}
    assert [(m.id, m.body, m.edited_at) for m in Message.objects.order_by("id")] == before
    kept = Delivery.objects.filter(status="failed").order_by("id")
    assert [(d.format, d.error) for d in kept] == [
        ("slack", "The room is archived."), ("github", "The room is archived."),
        ("alertmanager", "The room is archived."), ("grafana", "The room is archived.")]
    alert_msg.refresh_from_db()
    assert alert_msg.body.startswith("🔴 **FIRING**")

    # Replaying is refused the same way; after unarchiving it posts.
    replay = f"{API}/rooms/{room.id}/webhooks/{slack['id']}/deliveries/{kept[0].id}/replay"
    resp = client_for(ada).post(replay)
    assert resp.status_code == 403
    assert resp.json()["error"]["message"] == "The room is archived."
    assert len(room_messages(room)) == 1
    client_for(ada).patch(f"{API}/rooms/{room.id}", {"archived": False}, format="json")
    resp = client_for(ada).post(replay)
    assert resp.status_code == 200 and resp.json()["status"] == "posted"
    assert [m.body for m in room_messages(room)][1:] == ["into the archive"]


def test_deliveries_are_kept_listed_and_replayed(ops, make_hook, client_for):
    room, ada = ops["room"], ops["admin"]
    hook = make_hook(ada, room)
    send(Client(), hook_path(hook), {"text": "one"}, HTTP_USER_AGENT="Grafana",
         HTTP_AUTHORIZATION="Bearer secret-not-kept")
    send(Client(), hook_path(hook), raw=b"{oops")
    base = f"{API}/rooms/{room.id}/webhooks/{hook['id']}/deliveries"
    page = client_for(ada).get(base).json()
    assert [d["status"] for d in page["results"]] == ["failed", "posted"]
    posted = page["results"][1]
    assert json.loads(posted["body"]) == {"text": "one"}
    assert posted["headers"]["User-Agent"] == "Grafana"
    assert "Authorization" not in posted["headers"]
    assert page["results"][0]["error"].startswith("The body is not valid JSON")

    resp = client_for(ada).post(f"{base}/{posted['id']}/replay")
    assert resp.status_code == 200 and resp.json()["replays"] == 1
    assert [m.body for m in room_messages(room)] == ["one", "one"]
    entry = AuditEntry.objects.get(action="webhook.replayed")
    assert entry.actor_id == ada.id and entry.detail["delivery"] == posted["id"]
    # A bad delivery replays into the same 400, and is recorded as replayed.
    resp = client_for(ada).post(f"{base}/{page['results'][0]['id']}/replay")
    assert resp.status_code == 400
    assert client_for(ada).post(f"{base}/987654/replay").status_code == 404
    assert client_for(ops["member"]).post(f"{base}/{posted['id']}/replay").status_code == 403


def test_deliveries_page_with_cursor(ops, make_hook, client_for):
    room, ada = ops["room"], ops["admin"]
    hook = make_hook(ada, room)
    for i in range(55):
        send(Client(), hook_path(hook), {"text": f"m{i}"})
    base = f"{API}/rooms/{room.id}/webhooks/{hook['id']}/deliveries"
    first = client_for(ada).get(base).json()
    assert len(first["results"]) == 50 and first["next"]
    second = client_for(ada).get(f"{base}?before={first['next']}").json()
    assert len(second["results"]) == 5 and second["next"] is None
    assert client_for(ada).get(f"{base}?before=abc").status_code == 400


def test_prune_deletes_old_deliveries(ops, make_hook):
    from datetime import timedelta

    from django.utils import timezone

    hook = make_hook(ops["admin"], ops["room"])
    send(Client(), hook_path(hook), {"text": "old"})
    send(Client(), hook_path(hook), {"text": "new"})
    old = Delivery.objects.order_by("id").first()
    Delivery.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(days=20))
    call_command("prune_webhook_deliveries", "--days", "14")
    assert list(Delivery.objects.values_list("body", flat=True)) == ['{"text": "new"}']
    assert Message.objects.filter(body="old").exists()  # messages stay
