"""The index follows every write path (triggers) and can be rebuilt from scratch."""

from __future__ import annotations

from django.core.management import call_command

from chatserver.chat.models import Message


def test_index_follows_writes_that_bypass_the_actions(make_user, make_room, post, bodies):
    me = make_user()
    room = make_room(me, "raw")
    msg = post(me, room, "original words here")
    # A bulk UPDATE (no model save, no signal) still re-indexes through the trigger.
    Message.objects.filter(id=msg["id"]).update(body="replacement text host-9a.example")
    assert bodies(me, "original") == []
    assert bodies(me, "replacement") == ["replacement text host-9a.example"]
    assert bodies(me, "host-9a") == ["replacement text host-9a.example"]
    Message.objects.filter(id=msg["id"]).delete()
    assert bodies(me, "replacement") == []
    assert bodies(me, "host-9a") == []


def test_search_reindex_rebuilds_the_index(make_user, make_room, post, bodies, capsys):
    me = make_user()
    room = make_room(me, "rebuild")
    post(me, room, "deployed to edge-01.prod")
    call_command("search_reindex")
    assert "rebuilt" in capsys.readouterr().out
    assert bodies(me, "deploying") == ["deployed to edge-01.prod"]
    assert bodies(me, "edge-01") == ["deployed to edge-01.prod"]
    post(me, room, "deploy again after the rebuild")
    assert len(bodies(me, "deploy")) == 2
