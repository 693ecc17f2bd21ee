"""The incident bot through the harness: declare opens a room, pages on-call and
pins the summary, status/sev/assign/note/resolve change the summary (which stays
pinned), timeline is saved (with the pins people made), quiet rooms get a nudge."""

from __future__ import annotations

from datetime import date, time

from bots.builtin.incident import IncidentBot
from bots.builtin.models import Incident, Page, Rotation, RotationMember
from bots.builtin.oncall import OncallBot
from chatserver.accounts.models import Role
from chatserver.chat.models import Membership, Message, Room


def pinned_ids(client_for, person, room_id: int) -> list[int]:
    """The room's pins as the REST door lists them to this person."""
    resp = client_for(person.user).get(f"/api/v1/rooms/{room_id}/pins")
    assert resp.status_code == 200, resp.content
    return [m["id"] for m in resp.json()["results"]]


def test_incident_lifecycle(botbox, client_for):
    box = botbox(IncidentBot, OncallBot)
    ann, ben, cat = box.user("ann"), box.user("ben"), box.user("cat")
    ops = box.room("ops", members=[ann, ben, cat], bots=["incident", "oncall"])
    rot = Rotation.objects.create(name="primary", starts_on=date(2024, 1, 1), handoff=time(9),
                                  room=ops.room)
    RotationMember.objects.create(rotation=rot, user=ben.user, position=0)

    ann.says(ops, "@incident declare sev2 checkout is failing")
    inc = Incident.objects.get()
    announce = ops.expect_bot(contains=f"INC-{inc.id} (SEV2) declared: checkout is failing")
    assert f"#inc-{inc.id}" in announce.body
    room = Room.objects.get(name=f"inc-{inc.id}")
    assert inc.room_id == room.id
    members = set(Membership.objects.filter(room=room).values_list("user__username", flat=True))
    assert members == {"ann", "ben", "incident"}
    assert Page.objects.get().target_id == ben.user.id  # on-call paged
    card = Message.objects.get(id=inc.summary_message_id)
    assert "Severity **SEV2** · status **investigating**" in card.body
    # The summary is pinned, by the bot, as the on-call person sees it.
    assert pinned_ids(client_for, ben, room.id) == [card.id]
    assert card.pinned_by.username == "incident"
    assert room.topic.startswith(f"INC-{inc.id} · SEV2")
    from bots.testing import RoomBox

    irc = RoomBox(box, room)

    ann.says(irc, "@incident status identified: bad config push")
    inc.refresh_from_db()
    assert inc.status == "identified"
    assert "Latest: identified: bad config push" in Message.objects.get(
        id=inc.summary_message_id).body
    ops.expect_bot(contains=f"INC-{inc.id} (checkout is failing): identified: bad config push")

    ben.says(irc, "@incident sev sev1")
    irc.expect_bot(contains="severity is now SEV1 (was SEV2)")
    ann.says(irc, "@incident assign comms @cat")
    assert Membership.objects.filter(room=room, user=cat.user).exists()
    assert "comms: @cat" in Message.objects.get(id=inc.summary_message_id).body
    rollback = ben.says(irc, "rolled back the config")
    assert client_for(cat.user).post(
        f"/api/v1/rooms/{room.id}/messages/{rollback['id']}/pin").status_code == 201
    ann.says(irc, "@incident note customers saw 502s for 12 minutes")
    ann.says(irc, "@incident resolve rollback done")
    irc.expect_bot(contains=f"INC-{inc.id} resolved after")
    inc.refresh_from_db()
    assert inc.status == "resolved" and inc.resolved_at is not None
    # Resolved: the summary stays pinned (it now tells the outcome), beside cat's pin.
    assert pinned_ids(client_for, ann, room.id) == [rollback["id"], inc.summary_message_id]
    assert "✅" in Message.objects.get(id=inc.summary_message_id).body
    ann.says(irc, "@incident resolve")
    irc.expect_bot(contains="already resolved")

    ann.says(irc, "@incident timeline")
    inc.refresh_from_db()
    text = inc.timeline
    assert text.startswith(f"# INC-{inc.id} post-incident timeline: checkout is failing")
    for needle in ("**declared** — SEV2 declared by @ann", "**status** — identified: bad config",
                   "**sev** — severity SEV2 → SEV1", "**assign** — comms: @cat",
                   "@ben: rolled back the config", "**note** — customers saw 502s",
                   "**pinned** — @cat pinned @ben's message: rolled back the config",
                   "**resolved** — rollback done", "- Severity: SEV1"):
        assert needle in text, needle
    assert "@ann: @incident" not in text  # commands show as events only
    assert "pinned @incident" not in text  # the bot's own pin of its summary is no news
    assert irc.expect_bot(contains="post-incident timeline").body == text

    ann.says(ops, "@incident status hello")
    ops.expect_bot(contains="This is not an incident room")


def test_quiet_incident_room_is_nudged_once(botbox):
    box = botbox(IncidentBot)
    ann = box.user("ann", role=Role.ADMIN)
    ops = box.room("ops", members=[ann], bots=["incident"])
    ann.says(ops, "@incident declare sev3 slow search")
    inc = Incident.objects.get()
    from bots.testing import RoomBox

    irc = RoomBox(box, inc.room)
    box.advance("10m")
    assert not [m for m in irc.bot_messages() if "quiet" in m.body]
    box.advance("25m")
    irc.expect_bot(contains=f"INC-{inc.id} has been quiet for")
    box.advance("2m")
    assert len([m for m in irc.bot_messages() if "quiet" in m.body]) == 1


def test_guest_cannot_declare(botbox):
    box = botbox(IncidentBot)
    gus = box.user("gus", role=Role.GUEST)
    ops = box.room("ops", members=[gus], bots=["incident"])
    gus.says(ops, "@incident declare sev4 typo")
    ops.expect_bot(contains="Could not open the incident room")
    assert not Incident.objects.exists()
