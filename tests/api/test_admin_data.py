"""Export / import (JSON lines), the Slack import, and message retention."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from chatserver.accounts.models import Role, User
from chatserver.audit.models import AuditEntry
from chatserver.chat.models import Message, Room
from chatserver.events.models import RoomEvent
from chatserver.siteadmin import exporter

from .conftest import API


def _events(room_id):
    return list(RoomEvent.objects.filter(room_id=room_id).order_by("seq")
                .values_list("seq", "type", "frame"))


def test_export_import_round_trip_keeps_threads_and_event_log(make_user, client_for,
                                                                make_room, post, tmp_path):
    ada, mia = make_user("ada"), make_user("mia")
    room = make_room(ada, "ops", members=[mia])
    root = post(ada, room, "root @mia")
    post(mia, room, "reply", thread_id=root["id"])
    gone = post(mia, room, "deleted text")
    client_for(mia).delete(f"{API}/messages/{gone['id']}")
    client_for(mia).post(f"{API}/messages/{root['id']}/reactions", {"emoji": "ok"},
                         format="json")
    pinned = client_for(mia).post(f"{API}/rooms/{room.id}/messages/{root['id']}/pin").json()
    out = tmp_path / "dump.jsonl"
    call_command("export_data", str(out), "--room", str(room.id))
    text = out.read_text()
    assert "deleted text" not in text
    Room.objects.filter(id=room.id).update(name="ops-old")
    call_command("import_data", str(out))
    new = Room.objects.get(name="ops")
    msgs = list(Message.objects.filter(room=new).order_by("seq"))
    assert [m.body for m in msgs] == ["root @mia", "reply"]
    assert msgs[1].thread_root_id == msgs[0].id and msgs[0].reply_count == 1
    assert msgs[0].author.username == "ada"  # users are matched by name
    assert "mention" in msgs[0].html
    seqs = [s for s, _, _ in _events(new.id)]
    assert seqs == list(range(1, new.last_seq + 1))  # gapless: resume works
    types = [t for _, t, _ in _events(new.id)]
    assert types.count("message.new") == 2 and types.count("reaction.added") == 1
    # The API reads it like any room.
    page = client_for(mia).get(f"{API}/rooms/{new.id}/messages").json()["results"]
    assert [m["body"] for m in page] == ["root @mia"]
    assert page[0]["reactions"][0]["emoji"] == "ok"
    # Pins come along: same time, the pinner matched by name like the authors.
    pins = client_for(mia).get(f"{API}/rooms/{new.id}/pins").json()["results"]
    assert [(m["body"], m["pinned_at"], m["pinned_by"]) for m in pins] == [
        ("root @mia", pinned["pinned_at"], mia.id)]
    assert AuditEntry.objects.filter(action="data.imported").exists()


def test_import_rejects_bad_lines(tmp_path, db):
    import pytest
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "meta", "version": 1}\nnot json\n')
    with pytest.raises(CommandError, match="line 2"):
        call_command("import_data", str(bad))


def _slack_zip(path):
    users = [{"id": "U1", "name": "alice", "profile": {"real_name": "Alice A"},
              "tz": "Not/AZone"},
             {"id": "U2", "name": "bob", "profile": {"display_name": "Bobby"},
              "tz": "Europe/Paris"}]
    channels = [{"id": "C1", "name": "general", "creator": "U1", "members": ["U1", "U2"],
                 "topic": {"value": "all hands"}}]
    day1 = [
        {"type": "message", "user": "U1", "text": "hello <@U2> see <https://x.example|docs>",
         "ts": "1700000000.000100", "thread_ts": "1700000000.000100",
         "reactions": [{"name": "tada", "users": ["U2"], "count": 1}]},
        {"type": "message", "subtype": "channel_join", "user": "U2", "text": "joined",
         "ts": "1700000001.000000"},
        {"type": "message", "user": "U2", "text": "in thread &amp; fine",
         "ts": "1700000005.000200", "thread_ts": "1700000000.000100"},
    ]
    day2 = [{"type": "message", "user": "U2", "text": "next day", "ts": "1700090000.000000"}]
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("users.json", json.dumps(users))
        z.writestr("channels.json", json.dumps(channels))
        z.writestr("general/2023-11-14.json", json.dumps(day1))
        z.writestr("general/2023-11-15.json", json.dumps(day2))


def test_slack_import(tmp_path, db, make_user, client_for):
    archive = tmp_path / "slack.zip"
    _slack_zip(archive)
    call_command("import_slack", str(archive))
    room = Room.objects.get(name="general")
    assert room.topic == "all hands" and room.visibility == "public"
    msgs = list(Message.objects.filter(room=room).order_by("seq").select_related("author"))
    assert [(m.author.username, m.body) for m in msgs] == [
        ("alice", "hello @bob see docs (https://x.example)"),
        ("bob", "in thread & fine"),
        ("bob", "next day"),
    ]
    assert msgs[1].thread_root_id == msgs[0].id and msgs[2].thread_root_id is None
    assert msgs[0].created_at.year == 2023
    bob = User.objects.get(username="bob")
    assert bob.display_name == "Bobby" and not bob.has_usable_password()
    assert bob.timezone == "Europe/Paris"  # Slack's profile zone; reminders read it
    assert User.objects.get(username="alice").timezone == ""  # unknown: the site's
    assert msgs[0].reactions.get().emoji == ":tada:"
    admin = make_user("admin", role=Role.ADMIN)
    client_for(admin).post(f"{API}/admin/rooms/{room.id}/join")
    page = client_for(admin).get(f"{API}/rooms/{room.id}/messages").json()["results"]
    assert [m["body"] for m in page][-1] == "next day"


def test_slack_import_bad_archive(tmp_path, db):
    import pytest
    from django.core.management.base import CommandError

    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(CommandError):
        call_command("import_slack", str(junk))


def test_retention_deletes_old_messages_through_redaction(make_user, make_room, post,
                                                           client_for):
    ada = make_user("ada")
    room = make_room(ada, "ops")
    old = post(ada, room, "ancient secret")
    fresh = post(ada, room, "fresh news")
    Message.objects.filter(id=old["id"]).update(
        created_at=timezone.now() - timedelta(days=40))
    admin = make_user("admin", role=Role.ADMIN)
    assert client_for(ada).patch(f"{API}/rooms/{room.id}", {"retention_days": 30},
                                 format="json").json()["retention_days"] == 30
    call_command("apply_retention")
    assert Message.objects.get(id=old["id"]).deleted
    assert not Message.objects.get(id=fresh["id"]).deleted
    frames = " ".join(f for _, _, f in _events(room.id))
    assert "ancient secret" not in frames and "fresh news" in frames
    assert "message.deleted" in frames
    entry = AuditEntry.objects.get(action="retention.applied")
    assert entry.room_id == room.id and entry.detail["deleted"] == 1
    # The site setting covers rooms without their own.
    other = make_room(ada, "other")
    o = post(ada, other, "old too")
    Message.objects.filter(id=o["id"]).update(created_at=timezone.now() - timedelta(days=5))
    client_for(admin).patch(f"{API}/admin/settings", {"retention_days": 3}, format="json")
    call_command("apply_retention")
    assert Message.objects.get(id=o["id"]).deleted


def test_retention_claim_runs_one_sweep_at_a_time(db):
    from chatserver.siteadmin import retention

    assert retention.claim()
    assert not retention.claim()
    assert retention.run_claimed() is None
    retention.release()
    assert retention.run_claimed() == {}


def test_export_lines_whole_server(make_user, make_room, post, db):
    ada = make_user("ada")
    User.objects.filter(id=ada.id).update(timezone="Asia/Tokyo")
    post(ada, make_room(ada, "a"), "one")
    lines = [json.loads(x) for x in exporter.export_lines()]
    kinds = [x["type"] for x in lines]
    assert kinds.count("room") == 1 and kinds.count("message") == 1
    [user] = [x for x in lines if x["type"] == "user"]
    assert user["timezone"] == "Asia/Tokyo"
