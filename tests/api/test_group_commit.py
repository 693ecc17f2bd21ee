"""actions.post_messages: many sends in one transaction, each answered as
post_message alone would answer it."""

from __future__ import annotations

import pytest

from chatserver.chat import actions
from chatserver.chat.errors import ChatError, Forbidden, InvalidInput, NotFound, RateLimited
from chatserver.chat.models import Membership, Mention, Message
from chatserver.events.models import RoomEvent

pytestmark = pytest.mark.django_db


def req(actor, room, body="hi", cmid=None, thread=None):
    room_id = room if isinstance(room, int) else room.id
    return actions.PostRequest(actor=actor, room_id=room_id, body=body, client_msg_id=cmid,
                               thread_id=thread)


def test_a_batch_answers_each_request_on_its_own(make_user, make_room, post):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    room = make_room(alice, members=[bob])
    other = make_room(alice, members=[bob, carol])
    secret = make_room(alice, visibility="private")
    announce = make_room(alice, members=[bob])
    actions.update_room(actor=alice, room_id=announce.id, changes={"posting_policy": "admins"})
    stored = post(bob, room, "said before", client_msg_id="old-1")
    root = post(alice, other, "a thread root")
    for r in (room, other):
        r.refresh_from_db()
    before_seq = {r.id: r.last_seq for r in (room, other)}

    answers = actions.post_messages([
        req(alice, room, "first"),                              # 0 ok
        req(bob, room, "   "),                                  # 1 empty body
        req(bob, secret, "sneaky"),                             # 2 not a member: invisible
        req(bob, other, "hi @carol", cmid="new-1"),             # 3 ok, mentions carol
        req(bob, room, "said before", cmid="old-1"),            # 4 stored repeat
        req(bob, other, "hi @carol", cmid="new-1"),             # 5 repeat inside the batch
        req(bob, announce, "not an admin"),                     # 6 posting policy
        req(carol, other, "in the thread", thread=root["id"]),  # 7 ok, thread reply
        req(carol, other, "bad thread", thread=stored["id"]),   # 8 thread in another room
        req(alice, room, "second"),                             # 9 ok, after 0 in the room
        req(bob, 10**9, "nowhere"),                             # 10 no such room
        req(alice, room, "x" * 10_001),                         # 11 too long
    ])
    assert [type(a).__name__ for a in answers] == [
        "PostResult", "InvalidInput", "NotFound", "PostResult", "PostResult", "PostResult",
        "Forbidden", "PostResult", "NotFound", "PostResult", "NotFound", "TooLarge"]

    first, mention, reply, second = answers[0], answers[3], answers[7], answers[9]
    assert [first.message["seq"], second.message["seq"]] == [before_seq[room.id] + 1,
                                                             before_seq[room.id] + 2]
    assert [mention.message["seq"], reply.message["seq"]] == [before_seq[other.id] + 1,
                                                              before_seq[other.id] + 2]
    assert all(a.created for a in (first, mention, reply, second))
    assert answers[4].created is False and answers[4].message == stored
    assert answers[5].created is False and answers[5].message == mention.message
    assert reply.message["thread_id"] == root["id"]
    assert Message.objects.get(id=root["id"]).reply_count == 1
    assert Mention.objects.filter(message_id=mention.message["id"],
                                  user_id=carol.id).count() == 1
    # Exactly the four new messages were written, each with its event, no seq gaps.
    for r in (room, other):
        r.refresh_from_db()
        seqs = list(RoomEvent.objects.filter(room=r).order_by("seq").values_list("seq",
                                                                                 flat=True))
        assert seqs == list(range(1, r.last_seq + 1))
    assert Message.objects.filter(id__in=[a.message["id"] for a in answers
                                          if not isinstance(a, ChatError)]).count() == 5
    # Authors have read their own messages.
    assert Membership.objects.get(room=room, user=alice).last_read_seq == second.message["seq"]
    assert Membership.objects.get(room=other, user=carol).last_read_seq == reply.message["seq"]


def test_the_errors_are_the_ones_post_message_raises(make_user, make_room):
    alice, bob = make_user("alice"), make_user("bob")
    secret = make_room(alice, visibility="private")
    for kwargs, error in [
        ({"room_id": secret.id, "body": "x"}, NotFound),
        ({"room_id": "7", "body": "x"}, InvalidInput),
        ({"room_id": secret.id, "body": 5}, InvalidInput),
    ]:
        with pytest.raises(error):
            actions.post_message(actor=bob, **kwargs)
        [answer] = actions.post_messages([actions.PostRequest(actor=bob, **kwargs)])
        assert isinstance(answer, error)
    public = make_room(alice)
    with pytest.raises(Forbidden):
        actions.post_message(actor=bob, room_id=public.id, body="join first")


def test_the_send_budget_is_counted_per_message(make_user, make_room, settings):
    settings.CHAT = {**settings.CHAT, "SEND_RATE": (3, 60)}
    alice, bob = make_user("alice"), make_user("bob")
    room = make_room(alice, members=[bob])
    answers = actions.post_messages([req(bob, room, f"m{i}", cmid=f"c{i}") for i in range(5)]
                                    + [req(alice, room, "alice has her own budget")])
    assert [type(a).__name__ for a in answers] == ["PostResult"] * 3 + ["RateLimited"] * 2 + [
        "PostResult"]
    assert answers[3].retry_after > 0
    # A refused send was not stored: retrying its client_msg_id later is a new send.
    assert not Message.objects.filter(client_msg_id__in=["c3", "c4"]).exists()
    with pytest.raises(RateLimited):
        actions.post_message(actor=bob, room_id=room.id, body="still over")
    # ...but a repeat of a stored send is answered without spending budget.
    again = actions.post_message(actor=bob, room_id=room.id, body="m0", client_msg_id="c0")
    assert again.created is False


def test_a_batch_that_loses_a_client_msg_id_race_falls_back_one_by_one(make_user, make_room,
                                                                       monkeypatch):
    """If another writer commits one of the batch's client_msg_ids just before
    the batch's insert, the unique constraint stops the batch; each request is
    then answered alone, and nothing is written twice."""
    alice, bob = make_user("alice"), make_user("bob")
    room = make_room(alice, members=[bob])
    racer = {}
    real = actions._rate_limit

    def answer_then_race(drafts, results):
        todo = real(drafts, results)
        if not racer:  # the other writer commits "dup" right after our check
            racer["msg"] = None
            racer["msg"] = actions.post_message(actor=bob, room_id=room.id, body="raced",
                                                client_msg_id="dup").message
        return todo

    monkeypatch.setattr(actions, "_rate_limit", answer_then_race)
    answers = actions.post_messages([req(alice, room, "fine"),
                                     req(bob, room, "raced", cmid="dup"),
                                     req(alice, room, "also fine")])
    assert [a.created for a in answers] == [True, False, True]
    assert answers[1].message == racer["msg"]
    assert Message.objects.filter(author=bob, client_msg_id="dup").count() == 1
    room.refresh_from_db()
    seqs = list(RoomEvent.objects.filter(room=room).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, room.last_seq + 1))


@pytest.mark.django_db(transaction=True)
def test_a_commit_hook_may_write_again(make_user, make_room):
    """on_commit callbacks run while the writer still holds the process's SQLite
    writer lock; one that writes through the actions (a bot paging someone when an
    alert escalates) must not wait for that lock forever."""
    import threading

    from django.db import connection, transaction

    from chatserver.events.tx import write_transaction

    alice, bob = make_user("alice"), make_user("bob")
    room = make_room(alice, members=[bob])
    done = threading.Event()

    def write_then_write_again():
        try:
            with write_transaction():
                transaction.on_commit(lambda: actions.post_message(
                    actor=bob, room_id=room.id, body="from the hook"))
                actions.post_message(actor=alice, room_id=room.id, body="first")
            done.set()
        finally:
            connection.close()

    worker = threading.Thread(target=write_then_write_again, daemon=True)
    worker.start()
    worker.join(10)
    assert done.is_set(), "the commit hook's write deadlocked"
    assert list(Message.objects.filter(room=room).order_by("seq").values_list(
        "body", flat=True)) == ["first", "from the hook"]
