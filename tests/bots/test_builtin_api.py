"""The admin REST API of the built-in bots' data (site admins only, validated,
audited) and the bot webhook door POST /hooks/bot/<bot>/<name>."""

from __future__ import annotations

import json

from django.test import Client

from bots.builtin.models import BotHookToken, Rotation, RunbookAction, StatusEndpoint
from bots.models import BotRun
from bots.runtime import runtime
from chatserver.accounts.models import Role
from chatserver.audit.models import AuditEntry
from tests.bots.sample import WatchBot

API = "/api/v1/admin/bots"


def test_rotations_crud_with_members_and_on_call(make_user, client_for):
    admin = make_user("sam", role=Role.ADMIN)
    ann, ben = make_user("ann"), make_user("ben")
    c = client_for(admin)
    r = c.post(f"{API}/rotations", {"name": "primary", "starts_on": "2024-01-01",
                                    "period": "daily", "tz": "Europe/Paris",
                                    "members": [ann.id, ben.id]}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert [m["username"] for m in body["members"]] == ["ann", "ben"]
    assert body["on_call"]["username"] in ("ann", "ben")
    rid = body["id"]
    r = c.patch(f"{API}/rotations/{rid}", {"members": [ben.id], "escalate_minutes": 5},
                format="json")
    assert r.status_code == 200 and r.json()["on_call"]["username"] == "ben"
    assert Rotation.objects.get(id=rid).escalate_minutes == 5
    assert c.get(f"{API}/rotations").json()["results"][0]["name"] == "primary"
    for bad, field in [({"name": "Bad Name", "starts_on": "2024-01-01"}, "name"),
                       ({"name": "x", "starts_on": "2024-01-01", "tz": "Mars/Base"}, "tz"),
                       ({"name": "y", "starts_on": "2024-01-01", "members": [999999]},
                        "members"),
                       ({"name": "z"}, "starts_on")]:
        r = c.post(f"{API}/rotations", bad, format="json")
        assert r.status_code == 400, (bad, r.content)
        assert field in r.json()["error"]["fields"], r.json()
    assert c.delete(f"{API}/rotations/{rid}").status_code == 204
    assert not Rotation.objects.exists()
    actions = list(AuditEntry.objects.filter(action__startswith="bots.rotation").order_by("id")
                   .values_list("action", flat=True))
    assert actions == ["bots.rotation.created", "bots.rotation.updated", "bots.rotation.deleted"]
    assert client_for(ann).get(f"{API}/rotations").status_code == 403


def test_runbook_actions_are_validated(make_user, client_for):
    c = client_for(make_user("sam", role=Role.ADMIN))
    ok = {"name": "restart", "argv": ["/usr/bin/systemctl", "restart", "{service}"],
          "params": {"service": {"type": "choice", "choices": ["api", "web"]}},
          "run_policy": ["role:admin"], "needs_approval": True, "timeout_seconds": 120}
    r = c.post(f"{API}/runbook-actions", ok, format="json")
    assert r.status_code == 201, r.content
    for bad in [{**ok, "name": "a2", "argv": ["{service}"]},
                {**ok, "name": "a3", "argv": ["/bin/echo", "{nope}"]},
                {**ok, "name": "a4", "run_policy": ["root"]},
                {**ok, "name": "a5", "params": {"x": {"type": "shell"}}},
                {**ok, "name": "a6", "cwd": "relative/dir"},
                {**ok, "name": "a7", "env": {"lower": "x"}}]:
        r = c.post(f"{API}/runbook-actions", bad, format="json")
        assert r.status_code == 400, (bad, r.content)
    aid = RunbookAction.objects.get().id
    r = c.patch(f"{API}/runbook-actions/{aid}", {"argv": ["{service}"]}, format="json")
    assert r.status_code == 400
    r = c.patch(f"{API}/runbook-actions/{aid}", {"enabled": False}, format="json")
    assert r.status_code == 200 and r.json()["enabled"] is False


def test_status_endpoints_refuse_internal_literals(make_user, client_for):
    c = client_for(make_user("sam", role=Role.ADMIN))
    r = c.post(f"{API}/status-endpoints", {"name": "api", "url": "https://example.com/h"},
               format="json")
    assert r.status_code == 201 and r.json()["up"] is None
    for url in ("http://127.0.0.1/x", "http://10.0.0.1/", "ftp://example.com/",
                "https://user:pw@example.com/"):
        r = c.post(f"{API}/status-endpoints", {"name": "b", "url": url}, format="json")
        assert r.status_code == 400, url
        assert "url" in r.json()["error"]["fields"]


def test_bot_webhook_door(botbox, client_for, make_user):
    box = botbox(WatchBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["watch"])
    admin = make_user("sam", role=Role.ADMIN)
    r = client_for(admin).post(f"{API}/hook-tokens", {"bot": "watch"}, format="json")
    assert r.status_code == 201, r.content
    token = r.json()["token"]
    assert BotHookToken.objects.get().token_digest != token  # stored hashed
    assert client_for(admin).post(f"{API}/hook-tokens", {"bot": "nobody"},
                                  format="json").status_code == 400
    web = Client()

    def post(path, body='{"status": "green"}', **headers):
        return web.post(path, data=body, content_type="application/json", **headers)

    assert post("/hooks/bot/watch/ci").status_code == 401
    assert post("/hooks/bot/watch/ci", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert post("/hooks/bot/help/ci", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert post("/hooks/bot/watch/nope", HTTP_AUTHORIZATION=f"Bearer {token}").status_code \
        == 404
    assert post("/hooks/bot/watch/ci", body="{not json",
                HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 400
    assert web.get("/hooks/bot/watch/ci").status_code == 405
    r = post("/hooks/bot/watch/ci", HTTP_X_BOT_TOKEN=token)
    assert r.status_code == 202 and r.json()["run_id"] > 0
    assert runtime.wait_idle(10)
    ops.expect_bot(contains="CI says green")
    # A replaced token stops working.
    client_for(admin).post(f"{API}/hook-tokens", {"bot": "watch"}, format="json")
    assert post("/hooks/bot/watch/ci", HTTP_X_BOT_TOKEN=token).status_code == 401
    assert StatusEndpoint.objects.count() == 0


def test_bot_webhook_into_an_archived_room_is_refused(botbox, client_for, make_user):
    """A receiver bound to a room answers there; while the room is archived the door
    says so (403, nothing runs, no run is recorded) instead of a 202 for a run that
    could only fail."""
    box = botbox(WatchBot)
    ops = box.room("ops", members=[box.user("alice")], bots=["watch"])
    admin = make_user("sam", role=Role.ADMIN)
    token = client_for(admin).post(f"{API}/hook-tokens", {"bot": "watch"},
                                   format="json").json()["token"]
    web = Client()

    def deliver(status: str):
        return web.post("/hooks/bot/watch/ci", data=json.dumps({"status": status}),
                        content_type="application/json", HTTP_X_BOT_TOKEN=token)

    r = client_for(admin).patch(f"/api/v1/rooms/{ops.id}", {"archived": True}, format="json")
    assert r.status_code == 200
    runs = BotRun.objects.count()
    r = deliver("red")
    assert r.status_code == 403
    assert r.json()["error"] == {"code": "forbidden", "message": "The room is archived.",
                                 "fields": {}}
    assert runtime.wait_idle(10)
    assert BotRun.objects.count() == runs
    assert ops.bot_messages() == []
    # Unarchived, the same delivery runs and answers in the room.
    client_for(admin).patch(f"/api/v1/rooms/{ops.id}", {"archived": False}, format="json")
    r = deliver("green")
    assert r.status_code == 202
    assert runtime.wait_idle(10)
    assert BotRun.objects.get(id=r.json()["run_id"]).status == "ok"
    ops.expect_bot(contains="CI says green")
    assert "CI says red" not in [m.body for m in ops.bot_messages()]


def test_admin_pages_validate_and_audit(make_user):
    admin = make_user("root", role=Role.OWNER)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    web = Client()
    web.force_login(admin)
    assert web.get("/django-admin/builtin_bots/rotation/add/").status_code == 200
    r = web.post("/django-admin/builtin_bots/runbookaction/add/", {
        "name": "bad", "argv": '["{prog}"]', "params": '{"prog": {"type": "str"}}',
        "cwd": "", "env": "{}", "timeout_seconds": 60, "run_policy": "[]", "enabled": "on"})
    assert r.status_code == 200 and b"argv[0]" in r.content  # the form shows the error
    r = web.post("/django-admin/builtin_bots/runbookaction/add/", {
        "name": "ok", "argv": '["/bin/true"]', "params": "{}", "cwd": "", "env": "{}",
        "timeout_seconds": 60, "run_policy": "[]", "enabled": "on"})
    assert r.status_code == 302, r.content[:2000]
    assert RunbookAction.objects.get().name == "ok"
    assert AuditEntry.objects.filter(action="bots.runbook_action.created").exists()
