"""Outgoing webhooks and slash commands against a real local HTTP receiver.

Messages are posted over HTTP in this process; the hook's call runs on the
integrations thread pool once the message commits (hence transactional_db),
and the tests wait for that run instead of sleeping.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from chatserver.chat.models import Message
from chatserver.integrations import outgoing
from chatserver.integrations.models import Delivery, Webhook

from .conftest import API
from .receiver import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def allow_loopback(settings):
    settings.CHAT = {**settings.CHAT, "WEBHOOK_ALLOW_NETS": ["127.0.0.1/32"],
                     "WEBHOOK_BACKOFF": 0.01, "WEBHOOK_TIMEOUT": 2.0}


@pytest.fixture
def ops_live(transactional_db, make_user):
    from chatserver.chat import actions

    ada, mia = make_user("ada"), make_user("mia")
    room = actions.create_room(actor=ada, name="ops", visibility="public")
    actions.invite(actor=ada, room_id=room.id, user_ids=[mia.id])
    return {"room": room, "admin": ada, "member": mia}


def say(client_for, user, room, body: str, **extra) -> dict:
    outgoing.last_future = None
    resp = client_for(user).post(f"{API}/rooms/{room.id}/messages", {"body": body, **extra},
                                 format="json")
    assert resp.status_code == 201, resp.content
    if outgoing.last_future is not None:
        outgoing.last_future.result(timeout=30)
    return resp.json()


def bot_messages(hook_id: int) -> list[Message]:
    bot = Webhook.objects.get(id=hook_id).bot_user_id
    return list(Message.objects.filter(author_id=bot).order_by("seq"))


def test_trigger_word_posts_mattermost_fields_and_the_answer(
        ops_live, make_hook, client_for, receiver, allow_loopback):
    room, ada, mia = ops_live["room"], ops_live["admin"], ops_live["member"]
    hook = make_hook(ada, room, name="Weather", kind="outgoing", url=receiver.url(),
                     trigger_words=["weather", "forecast"])
    receiver.answers = [(200, {"text": "Sunny, *22°C*", "username": "meteo"}, 0)]
    say(client_for, mia, room, "nothing to see")  # no trigger: no request
    msg = say(client_for, mia, room, "Weather Paris tomorrow")
    [req] = receiver.requests
    body = req["body"]
    assert req["content_type"] == "application/json"
    assert body["token"] == hook["token"] and body["trigger_word"] == "Weather"
    assert body["text"] == "Weather Paris tomorrow"
    assert body["channel_id"] == str(room.id) and body["channel_name"] == "ops"
    assert body["user_id"] == str(mia.id) and body["user_name"] == "mia"
    assert body["post_id"] == str(msg["id"]) and body["timestamp"].isdigit()
    assert req["headers"]["Host"] == f"127.0.0.1:{receiver.port}"
    [answer] = bot_messages(hook["id"])
    assert answer.body == "**meteo**\nSunny, *22°C*" and answer.thread_root_id is None
    assert Delivery.objects.get(hook_id=hook["id"], direction="out").status == "sent"


def test_answer_in_thread_when_triggered_in_thread(ops_live, make_hook, client_for, receiver,
                                                   allow_loopback):
    room, ada, mia = ops_live["room"], ops_live["admin"], ops_live["member"]
    hook = make_hook(ada, room, kind="outgoing", url=receiver.url(), trigger_words=["ping"])
    receiver.answers = [(200, {"text": "pong"}, 0)]
    root = say(client_for, mia, room, "a thread")
    say(client_for, mia, room, "ping", thread_id=root["id"])
    [answer] = bot_messages(hook["id"])
    assert answer.body == "pong" and answer.thread_root_id == root["id"]


def test_retries_with_backoff_on_server_errors(ops_live, make_hook, client_for, receiver,
                                               allow_loopback):
    room, ada = ops_live["room"], ops_live["admin"]
    hook = make_hook(ada, room, kind="outgoing", url=receiver.url(), trigger_words=["go"])
    receiver.answers = [(503, {}, 0), (500, {}, 0), (200, {"text": "third time"}, 0)]
    say(client_for, ada, room, "go")
    assert len(receiver.requests) == 3
    assert [m.body for m in bot_messages(hook["id"])] == ["third time"]


def test_gives_up_after_timeouts(ops_live, make_hook, client_for, receiver, allow_loopback,
                                 settings):
    settings.CHAT = {**settings.CHAT, "WEBHOOK_TIMEOUT": 0.3, "WEBHOOK_TRIES": 2}
    room, ada = ops_live["room"], ops_live["admin"]
    hook = make_hook(ada, room, kind="outgoing", url=receiver.url(), trigger_words=["slow"])
    receiver.answers = [(200, {"text": "too late"}, 1.0)]
    say(client_for, ada, room, "slow")
    assert len(receiver.requests) == 2
    delivery = Delivery.objects.get(hook_id=hook["id"], direction="out")
    assert delivery.status == "failed" and "Timeout" in delivery.error
    assert bot_messages(hook["id"]) == []


def test_ssrf_guard_refuses_loopback_unless_allowed(ops_live, make_hook, client_for, receiver,
                                                    settings):
    settings.CHAT = {**settings.CHAT, "WEBHOOK_ALLOW_NETS": []}
    room, ada = ops_live["room"], ops_live["admin"]
    # A name, not a literal, so creation cannot tell; the guard resolves it at send time.
    hook = make_hook(ada, room, kind="outgoing", url=receiver.url(host="localhost"),
                     trigger_words=["go"])
    say(client_for, ada, room, "go now")
    assert receiver.requests == []
    delivery = Delivery.objects.get(hook_id=hook["id"], direction="out")
    assert delivery.status == "refused" and "loopback" in delivery.error
    assert bot_messages(hook["id"]) == []


def test_slash_command_form_fields_and_in_channel_answer(ops_live, make_hook, client_for,
                                                         receiver, allow_loopback):
    room, ada, mia = ops_live["room"], ops_live["admin"], ops_live["member"]
    hook = make_hook(ada, room, kind="command", url=receiver.url("/cmd"), command="deploy")
    receiver.answers = [(200, {"response_type": "in_channel", "text": "Deploying api"}, 0)]
    say(client_for, mia, room, "/deploy api production")
    [req] = receiver.requests
    assert req["path"] == "/cmd" and req["content_type"] == "application/x-www-form-urlencoded"
    assert req["body"]["command"] == "/deploy" and req["body"]["text"] == "api production"
    assert req["body"]["token"] == hook["token"] and req["body"]["user_name"] == "mia"
    assert [m.body for m in bot_messages(hook["id"])] == ["Deploying api"]
    say(client_for, mia, room, "/deployment is not the command")
    assert len(receiver.requests) == 1


def test_slash_command_ephemeral_answer_goes_to_the_caller_only(
        ops_live, make_hook, client_for, receiver, allow_loopback, monkeypatch):
    from chatserver.realtime import hub

    frames = []
    monkeypatch.setattr(hub, "publish_user_ephemeral", lambda uid, f: frames.append((uid, f)))
    room, ada, mia = ops_live["room"], ops_live["admin"], ops_live["member"]
    hook = make_hook(ada, room, kind="command", url=receiver.url(), command="whoami")
    receiver.answers = [(200, {"text": "You are *mia*"}, 0)]  # Mattermost's default: ephemeral
    say(client_for, mia, room, "/whoami")
    assert bot_messages(hook["id"]) == []
    [(uid, frame)] = frames
    assert uid == mia.id and frame["type"] == "message.ephemeral" and frame["room"] == room.id
    assert frame["message"]["body"] == "You are *mia*"
    assert "<em>mia</em>" in frame["message"]["html"]


def test_revoked_hook_is_not_called(ops_live, make_hook, client_for, receiver, allow_loopback):
    room, ada = ops_live["room"], ops_live["admin"]
    hook = make_hook(ada, room, kind="outgoing", url=receiver.url(), trigger_words=["go"])
    client_for(ada).delete(f"{API}/rooms/{room.id}/webhooks/{hook['id']}")
    say(client_for, ada, room, "go")
    assert receiver.requests == []


# --- response_url: a slash command answered later ----------------------------------------


def _respond(path: str, payload, **headers):
    from django.test import Client

    return Client().post(path, data=json.dumps(payload), content_type="application/json",
                         **headers)


def test_slash_command_answers_later_through_its_response_url(
        ops_live, make_hook, client_for, receiver, allow_loopback, monkeypatch, settings):
    from chatserver.realtime import hub

    settings.CHAT = {**settings.CHAT, "WEBHOOK_RESPONSE_USES": 3}
    frames = []
    monkeypatch.setattr(hub, "publish_user_ephemeral", lambda uid, f: frames.append((uid, f)))
    room, ada, mia = ops_live["room"], ops_live["admin"], ops_live["member"]
    hook = make_hook(ada, room, kind="command", url=receiver.url("/build"), command="build")
    receiver.answers = [(200, "", 0)]  # "got it": nothing to post now
    root = say(client_for, mia, room, "starting a thread")
    say(client_for, mia, room, "/build api", thread_id=root["id"])
    [req] = receiver.requests
    url = req["body"]["response_url"]
    assert url.startswith("http://testserver/hooks/respond/")  # where the hook was made
    path = urlsplit(url).path
    assert bot_messages(hook["id"]) == []

    # Ephemeral by default (to the caller only), then in the channel, in the thread.
    assert _respond(path, {"text": "Build *queued*"}).status_code == 200
    [(uid, frame)] = frames
    assert uid == mia.id and frame["message"]["body"] == "Build *queued*"
    assert frame["room"] == room.id and frame["message"]["thread_id"] == root["id"]
    resp = _respond(path, {"response_type": "in_channel", "text": "Build done",
                           "attachments": [{"color": "good", "title": "api #42"}]})
    assert resp.status_code == 200 and resp.content == b"ok"
    [done] = bot_messages(hook["id"])
    assert done.body == "Build done\n> 🟢 **api #42**" and done.thread_root_id == root["id"]
    # The same answer again is the sender retrying: posted once.
    again = _respond(path, {"response_type": "in_channel", "text": "Build done",
                            "attachments": [{"color": "good", "title": "api #42"}]})
    assert again.status_code == 200 and again["X-Duplicate-Delivery"]
    assert len(bot_messages(hook["id"])) == 1

    # Bad answers: the reason, nothing posted, kept for inspection.
    bad = _respond(path, {"response_type": "in_channel"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"text": "required"}
    from django.test import Client

    assert Client().post(path, data="{nope", content_type="application/json").status_code == 400
    assert Client().get(path).status_code == 405
    assert len(bot_messages(hook["id"])) == 1

    # It takes WEBHOOK_RESPONSE_USES answers, then says it is used up.
    assert _respond(path, {"response_type": "in_channel", "text": "third"}).status_code == 200
    used = _respond(path, {"response_type": "in_channel", "text": "fourth"})
    assert used.status_code == 410 and used.json()["error"]["code"] == "expired"
    assert [m.body for m in bot_messages(hook["id"])][-1] == "third"

    # The answers are kept with the hook (not replayable: they belong to one command).
    listed = client_for(ada).get(f"{API}/rooms/{room.id}/webhooks/{hook['id']}/deliveries")
    kept = [d for d in listed.json()["results"] if d["format"] == "response"][::-1]
    assert [d["status"] for d in kept] == ["posted", "posted", "failed", "failed", "posted"]
    assert "Build *queued*" in kept[0]["body"] and kept[1]["duplicates"] == 1
    assert "needs text" in kept[2]["error"]
    replay = client_for(ada).post(
        f"{API}/rooms/{room.id}/webhooks/{hook['id']}/deliveries/{kept[0]['id']}/replay")
    assert replay.status_code == 400


def test_response_url_refuses_forged_expired_and_revoked(
        ops_live, make_hook, client_for, receiver, allow_loopback, monkeypatch):
    room, ada = ops_live["room"], ops_live["admin"]
    hook = make_hook(ada, room, kind="command", url=receiver.url(), command="build")
    receiver.answers = [(200, "", 0)]
    say(client_for, ada, room, "/build web")
    path = urlsplit(receiver.requests[0]["body"]["response_url"]).path
    token = path.rsplit("/", 1)[1]
    in_channel = {"response_type": "in_channel", "text": "x"}
    # Another message's id in the token breaks the signature.
    payload, _, rest = token.partition(":")
    for forged in (f"{payload[:-2]}AA:{rest}", "nope", token + "x"):
        resp = _respond(f"/hooks/respond/{forged}", in_channel)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    # 31 minutes later it has expired.
    import time as time_module

    later = time_module.time() + 31 * 60
    with monkeypatch.context() as m:
        m.setattr("django.core.signing.time.time", lambda: later)
        resp = _respond(path, in_channel)
    assert resp.status_code == 410 and "30 minutes" in resp.json()["error"]["message"]
    # A revoked hook's URLs stop working at once.
    client_for(ada).delete(f"{API}/rooms/{room.id}/webhooks/{hook['id']}")
    assert _respond(path, in_channel).status_code == 404
    assert bot_messages(hook["id"]) == []


def test_response_url_uses_the_public_url_and_is_empty_without_one(
        ops_live, client_for, receiver, allow_loopback, settings):
    from chatserver.integrations import service

    room, ada = ops_live["room"], ops_live["admin"]
    # Made without an HTTP request (no address known) and no CHAT_PUBLIC_URL: no URL.
    service.create_webhook(actor=ada, room_id=room.id, data={
        "name": "a", "kind": "command", "url": receiver.url(), "command": "one"})
    settings.CHAT = {**settings.CHAT, "PUBLIC_URL": "https://chat.example.com"}
    service.create_webhook(actor=ada, room_id=room.id, data={
        "name": "b", "kind": "command", "url": receiver.url(), "command": "two"})
    outgoing.invalidate()
    say(client_for, ada, room, "/two")
    assert receiver.requests[-1]["body"]["response_url"].startswith(
        "https://chat.example.com/hooks/respond/")
    settings.CHAT = {**settings.CHAT, "PUBLIC_URL": ""}
    say(client_for, ada, room, "/one")
    assert receiver.requests[-1]["body"]["response_url"] == ""
