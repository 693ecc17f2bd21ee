"""The runtime through the harness: real actions, real commits, real handlers."""

from __future__ import annotations

import time

import pytest

from bots.models import BotRun, BotState, BotValue, RunStatus
from bots.runtime import runtime
from chatserver.accounts.models import Role
from chatserver.audit.models import AuditEntry
from chatserver.chat.models import Message
from tests.conftest import requires_postgres

from .sample import CrashBot, DeployBot, FloodBot, HangBot, MorningBot, WatchBot


def audit_rows(**detail):
    rows = AuditEntry.objects.filter(action="bot.command").order_by("id")
    return [r for r in rows if all(r.detail.get(k) == v for k, v in detail.items())]


def test_command_replies_and_edits_progress_in_place(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["deploy"])
    alice.says(ops, "@deploy deploy api staging --ref v9")
    msg = ops.expect_bot(contains="Deployed api@v9 to staging.")
    assert msg.edited_at is not None  # the progress message, edited in place
    assert len(ops.bot_messages()) == 1
    alice.says(ops, "/deploy deploy web staging --force")
    ops.expect_bot(contains="Deployed web@main to staging (forced).")
    entry = audit_rows(command="deploy", result="ok")[-1]
    assert entry.actor_id == alice.id and entry.room_id == ops.id
    assert entry.detail["invocation"] == "deploy web staging --force"


def test_usage_errors_and_unknown_commands_are_ephemeral(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["deploy"])
    alice.says(ops, "@deploy deploy api prodution")
    text = alice.expect_ephemeral("Did you mean production?")
    assert "Usage: `@deploy deploy <service:api|web> <env:staging|production>" in text
    alice.says(ops, "@deploy deplyo api staging")
    alice.expect_ephemeral("Did you mean `deploy`?")
    assert ops.bot_messages() == []
    assert audit_rows(result="usage_error")


def test_help_lists_bots_and_usage(botbox):
    box = botbox(DeployBot, CrashBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["deploy"])
    alice.says(ops, "@help")
    listing = alice.expect_ephemeral("**Bots**")
    assert "@deploy" in listing and "@crashy" in listing and "(not in this room)" in listing
    alice.says(ops, "@deploy help")
    text = alice.expect_ephemeral("**@deploy**")
    assert "`@deploy status [<env:staging|production>]` — Show what runs where." in text
    assert "`@deploy deploy <service:api|web>" in text
    alice.says(ops, "@deploy help deploy")
    text = alice.expect_ephemeral("Examples:")
    assert "`@deploy deploy web production --ref=v1.2`" in text
    assert "Needs a second person's approval." in text


def test_readonly_commands_need_only_ask(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["deploy"])
    alice.says(ops, "@deploy status production")
    ops.expect_bot(contains="status of production: green")


def test_denied_by_argument_predicate(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["deploy"])
    alice.says(ops, "@deploy deploy api production")
    alice.expect_ephemeral("with these arguments needs role:admin")
    assert ops.bot_messages() == []
    assert audit_rows(result="denied")[-1].actor_id == alice.id
    assert not box.can(alice, ops, "deploy deploy api production")
    assert box.can(alice, ops, "deploy deploy api staging")


def test_two_person_approval(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice", role=Role.ADMIN)
    bob = box.user("bob", role=Role.ADMIN)
    carol = box.user("carol")
    ops = box.room("ops", members=[alice, bob, carol], bots=["deploy"])
    alice.says(ops, "@deploy deploy api production")
    card = ops.expect_bot(contains="Approval needed")
    run = BotRun.objects.get(status=RunStatus.AWAITING)
    assert f"request #{run.id}" in card.body and "deploy api production" in card.body
    alice.says(ops, f"@deploy approve {run.id}")
    alice.expect_ephemeral("cannot approve your own")
    carol.says(ops, f"@deploy approve {run.id}")  # carol may not deploy to production
    carol.expect_ephemeral("You may not approve this")
    elsewhere = box.room("elsewhere", members=[bob], bots=["deploy"])
    bob.says(elsewhere, f"@deploy approve {run.id}")  # approvals happen in the room
    bob.expect_ephemeral(f"There is no request #{run.id} for @deploy in this room.")
    run.refresh_from_db()
    assert run.status == RunStatus.AWAITING
    assert not Message.objects.filter(body__contains="Deployed").exists()
    bob.says(ops, f"@deploy approve {run.id}")
    ops.expect_bot(contains="Deployed api@main to production.")
    run.refresh_from_db()
    assert run.status == RunStatus.OK and run.approved_by_id == bob.id
    done = audit_rows(result="ok", run_id=run.id)[-1]
    assert done.actor_id == alice.id and done.detail["approved_by"] == bob.id
    bob.says(ops, f"@deploy approve {run.id}")  # a second approval does not run it again
    bob.expect_ephemeral("not awaiting approval")
    assert Message.objects.filter(body__contains="Deployed api").count() == 1


def test_approval_expires_and_deny(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice", role=Role.ADMIN)
    bob = box.user("bob", role=Role.ADMIN)
    ops = box.room("ops", members=[alice, bob], bots=["deploy"])
    alice.says(ops, "@deploy deploy api production")
    first = BotRun.objects.get(status=RunStatus.AWAITING)
    box.advance("11m")
    bob.says(ops, f"@deploy approve {first.id}")
    bob.expect_ephemeral("has expired")
    first.refresh_from_db()
    assert first.status == RunStatus.EXPIRED
    alice.says(ops, "@deploy deploy web production")
    second = BotRun.objects.get(status=RunStatus.AWAITING)
    bob.says(ops, f"@deploy deny {second.id}")
    ops.expect_bot(contains=f"Request #{second.id} was denied by @bob")
    assert audit_rows(result="rejected", run_id=second.id)
    assert not Message.objects.filter(body__contains="Deployed").exists()


def test_exceptions_are_answered_without_traceback(botbox):
    box = botbox(CrashBot, DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["crashy", "deploy"])
    alice.says(ops, "@crashy boom", expect_error=True)
    msg = ops.expect_bot(contains="`boom` failed (run #")
    assert "secret" not in msg.body and "Traceback" not in msg.body
    alice.says(ops, "@crashy aboom", expect_error=True)
    ops.expect_bot(contains="`aboom` failed")
    alice.says(ops, "@deploy oops")
    ops.expect_bot(contains="nothing to deploy today")
    failed = audit_rows(bot="crashy", result="failed")
    assert "secret internal detail" in failed[0].detail["error"]  # kept for admins


def test_a_hanging_bot_times_out_and_others_keep_answering(botbox):
    box = botbox(HangBot, DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["hangy", "deploy"])
    start = time.monotonic()
    alice.says(ops, "@hangy asleep")
    ops.expect_bot(contains="`asleep` timed out after 0.5 s")
    alice.says(ops, "@hangy sleep")
    ops.expect_bot(contains="`sleep` timed out after 0.5 s")
    # Did not wait for the 2 s sleep: that would take 0.5 + 2 s at least; two
    # timeouts take 1 s, plus the posts (1.98 s once on a VM short of CPU).
    assert time.monotonic() - start < 2.4
    alice.says(ops, "@deploy status")
    ops.expect_bot(contains="status of all: green")
    alice.says(ops, "@hangy ping")
    ops.expect_bot(contains="pong")
    assert audit_rows(bot="hangy", result="timed_out")


def test_cancel_a_long_job(botbox):
    box = botbox(HangBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["hangy"])
    runtime.raise_errors = False
    from chatserver.chat import actions

    actions.post_message(actor=alice.user, room_id=ops.id, body="@hangy long")
    deadline = time.monotonic() + 5
    while not BotRun.objects.filter(status=RunStatus.RUNNING, command="long").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run = BotRun.objects.get(command="long")
    alice.says(ops, f"@hangy cancel {run.id}")
    ops.expect_bot(contains=f"`long` was cancelled (run #{run.id})")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_pause_after_repeated_failures_tells_admins(botbox, settings):
    settings.CHAT = {**settings.CHAT, "BOT_FAILURE_LIMIT": 2}
    box = botbox(CrashBot)
    admin = box.user("root", role=Role.ADMIN)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["crashy"])
    alice.says(ops, "@crashy boom", expect_error=True)
    alice.says(ops, "@crashy boom", expect_error=True)
    assert BotState.objects.get(bot__username="crashy").paused
    dm = Message.objects.filter(room__visibility="direct", author__username="crashy",
                                room__memberships__user=admin.user).get()
    assert "paused after 2 failures" in dm.body
    alice.says(ops, "@crashy boom")
    alice.expect_ephemeral("is paused")
    assert len(ops.bot_messages()) == 2


def test_a_flooding_bot_is_muted(botbox, settings):
    settings.CHAT = {**settings.CHAT, "BOT_ROOM_RATE": (5, 60)}
    box = botbox(FloodBot)
    box.user("root", role=Role.ADMIN)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["flood"])
    alice.says(ops, "@flood spam 20")
    assert len(ops.bot_messages()) == 5
    assert BotState.objects.get(bot__username="flood").muted_until is not None
    assert AuditEntry.objects.filter(action="bot.muted").exists()
    alice.says(ops, "@flood spam 1")
    alice.expect_ephemeral("muted")
    assert len(ops.bot_messages()) == 5


def test_listeners_reply_only_and_bots_do_not_trigger_bots(botbox):
    box = botbox(WatchBot, DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["watch", "deploy"])
    box.room("elsewhere", members=[alice], bots=["watch"])
    alice.says(ops, "is INC-42 still open?")
    ops.expect_bot(contains="Incident INC-42: https://inc.example/INC-42")
    alice.says(ops, "please send elsewhere", expect_error=False)
    assert not Message.objects.filter(body__contains="listeners cannot do this").exists()
    # alice's message wakes the listener once; the bot's echo of it does not again
    alice.says(ops, "@deploy thread about INC-7")
    assert Message.objects.filter(body="about INC-7", thread_root__isnull=False).exists()
    assert Message.objects.filter(body__contains="Incident INC-7").count() == 1


def test_commands_in_a_dm_with_the_bot(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice")
    dm = box.dm(alice, "deploy")
    alice.says(dm, "deploy api staging")
    dm.expect_bot(contains="Deployed api@main to staging.")
    alice.says(dm, "@deploy status")
    dm.expect_bot(contains="status of all")


def test_thread_replies_stay_in_the_thread(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["deploy"])
    root = alice.says(ops, "starting a thread")
    alice.says(ops, "@deploy status", thread=root["id"])
    reply = ops.expect_bot(contains="status of all")
    assert reply.thread_root_id == root["id"]


def test_bot_not_in_room(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice])
    alice.says(ops, "@deploy status")
    alice.expect_ephemeral("@deploy is not in this room")
    assert ops.bot_messages() == []


def test_the_bot_acts_on_behalf_of_the_caller(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice")
    bob = box.user("bob")
    ops = box.room("ops", members=[alice, bob], bots=["deploy"])
    secret = box.room("secret", members=[bob], bots=["deploy"], visibility="private")
    alice.says(ops, "@deploy post #secret hello")
    alice.expect_ephemeral("There is no room #secret that you can see.")
    assert secret.bot_messages() == []
    bob.says(ops, "@deploy post #secret from bob")
    secret.expect_bot(contains="from bob")
    alice.says(ops, "@deploy tell @bob the build is green")
    dm = Message.objects.get(room__visibility="direct", author__username="deploy")
    assert dm.body == "alice says: the build is green"
    assert dm.room.memberships.filter(user=bob.user).exists()


def test_store_is_per_bot_and_atomic(botbox):
    box = botbox(DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["deploy"])
    for _ in range(3):
        alice.says(ops, "@deploy count")
    ops.expect_bot(contains="count is 3")
    assert BotValue.objects.get(key="count").value == 3


def test_schedules_and_webhooks(botbox):
    box = botbox(WatchBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["watch"])
    assert box.advance("10m") == 0
    assert box.advance("55m") == 1
    ops.expect_bot(contains="hourly tick")
    assert box.advance("10m") == 0
    box.webhook("watch", "ci", {"status": "green"})
    ops.expect_bot(contains="CI says green")


def test_cron_schedule_in_its_time_zone(botbox):
    """`@cron("0 9 * * 1-5", tz="Europe/Paris")`: weekdays at 9:00 Paris time, before
    and after the change to summer time (2027-03-28), never at the weekend."""
    from datetime import UTC, datetime

    box = botbox(MorningBot)
    ops = box.room("ops", bots=["morning"])
    box.travel_to(datetime(2027, 3, 26, 7, 30, tzinfo=UTC))  # Friday 08:30 in Paris

    def said() -> int:
        return sum(m.body == "good morning" for m in ops.bot_messages())

    def at(*when: int) -> int:
        seconds = (datetime(*when, tzinfo=UTC) - runtime.now()).total_seconds()
        return box.advance(f"{int(seconds)}s")

    assert at(2027, 3, 26, 7, 59) == 0
    assert at(2027, 3, 26, 8, 0, 30) == 1 and said() == 1  # 09:00 CET
    assert at(2027, 3, 28, 12, 0) == 0  # the weekend
    assert at(2027, 3, 29, 6, 59) == 0  # Monday 08:59 CEST
    assert at(2027, 3, 29, 7, 0, 30) == 1 and said() == 2  # 09:00 CEST


def test_each_message_runs_once(botbox):
    """Handing the same committed message to the runtime again does nothing."""
    box = botbox(DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["deploy"])
    msg = alice.says(ops, "@deploy count")
    runtime.on_message_posted(msg)
    runtime.handle_message(msg)
    assert runtime.wait_idle(10)
    assert BotRun.objects.filter(message_id=msg["id"]).count() == 1
    assert BotValue.objects.get(key="count").value == 1


@pytest.mark.parametrize("body", ["@deploy", "@deploy   ", "@deployer status", "email@deploy x"])
def test_addressing_edges(botbox, body):
    box = botbox(DeployBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice], bots=["deploy"])
    alice.says(ops, body)
    assert ops.bot_messages() == []
    if body.strip() == "@deploy":
        alice.expect_ephemeral("**@deploy**")  # the bot's help
    else:
        assert alice.ephemerals() == []


def test_schedules_in_an_archived_room_are_skipped_until_it_is_back(botbox):
    """A schedule bound to a room does not run while the room is archived (its
    answers could only fail): each firing is recorded as skipped, and the
    schedule runs again once the room is unarchived."""
    from datetime import UTC, datetime

    from chatserver.chat.models import Room

    box = botbox(MorningBot)
    ops = box.room("ops", bots=["morning"])
    box.travel_to(datetime(2027, 3, 26, 7, 30, tzinfo=UTC))  # Friday 08:30 in Paris
    Room.objects.filter(id=ops.id).update(archived=True)
    box.advance("1h")
    assert not ops.bot_messages()
    skipped = BotRun.objects.get(kind="schedule", command="hello")
    assert skipped.status == RunStatus.CANCELLED and skipped.error == "The room is archived."
    assert not runtime.state(runtime.sync_users()["morning"]).paused
    Room.objects.filter(id=ops.id).update(archived=False)
    box.advance("3d")  # Monday 09:00 CEST
    assert [m.body for m in ops.bot_messages()] == ["good morning"]


@requires_postgres
def test_a_job_claimed_by_another_process_is_skipped(botbox):
    """While another connection holds a due job's row (it is claiming it), this
    process's scheduler skips it instead of running it a second time."""
    import threading
    from datetime import timedelta

    from django.db import connection, transaction

    from bots.models import ScheduledJob

    from .sample import TickBot

    botbox(TickBot)
    runtime.clock_offset = timedelta(seconds=5)
    job = ScheduledJob.objects.get(handler="tick")
    locked, release = threading.Event(), threading.Event()

    def other_process():
        try:
            with transaction.atomic():
                ScheduledJob.objects.select_for_update().get(id=job.id)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=other_process)
    holder.start()
    assert locked.wait(10)
    try:
        assert runtime.run_due_jobs() == 0
    finally:
        release.set()
        holder.join(10)
    assert runtime.run_due_jobs() == 1
    assert runtime.wait_idle(10)
