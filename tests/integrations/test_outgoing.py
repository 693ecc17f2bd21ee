"""Outgoing webhooks and slash commands against a real local HTTP receiver.

Messages are posted over HTTP in this process; the hook's call runs on the
integrations thread pool once the message commits (hence transactional_db),
and the tests wait for that run instead of sleeping.
"""

from __future__ import annotations

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
