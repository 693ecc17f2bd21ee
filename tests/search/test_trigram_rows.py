"""SQLite leaves messages of only ASCII letters, digits and spaces out of the
trigram table; edits and deletes moving a message in and out of it must keep
the table exact (an FTS5 'delete' of a row never indexed corrupts it)."""

from __future__ import annotations

import pytest
from django.db import connection

from chatserver.chat import actions

pytestmark = pytest.mark.django_db


def _post(me, room, body: str) -> int:
    return actions.post_message(actor=me, room_id=room.id, body=body).message["id"]


def test_edits_and_deletes_move_messages_in_and_out(make_user, make_room, bodies):
    me = make_user("oncall")
    room = make_room(me, "ops")
    plain = _post(me, room, "plain words only here")
    ops = _post(me, room, "pod api-7f9c crashed")
    assert bodies(me, "api-7f9c", sort="recent") == ["pod api-7f9c crashed"]

    actions.edit_message(actor=me, message_id=plain, body="now api-7f9cd8 too")
    assert bodies(me, "api-7f9c", sort="recent") == ["pod api-7f9c crashed",
                                                    "now api-7f9cd8 too"]
    actions.edit_message(actor=me, message_id=plain, body="plain again")
    actions.edit_message(actor=me, message_id=ops, body="all fine now")
    assert bodies(me, "api-7f9c", sort="recent") == []
    actions.edit_message(actor=me, message_id=ops, body="api-7f9c is back")
    actions.delete_message(actor=me, message_id=ops)
    assert bodies(me, "api-7f9c", sort="recent") == []
    # Words still go through the word index whatever the trigram table holds.
    assert bodies(me, "plain", sort="recent") == ["plain again"]

    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("INSERT INTO search_trgm(search_trgm) VALUES ('integrity-check')")
            cur.execute("SELECT rowid FROM search_trgm WHERE search_trgm MATCH 'again'")
            assert cur.fetchall() == []  # a plain message: not in the trigram table
