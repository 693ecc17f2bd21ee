"""The runbook and deploy bots: typed parameters (no injection, no shell), run
policy, approval, streamed and truncated output, exit status, timeout; deploy
locks and the two-person rule for production."""

from __future__ import annotations

import sys

import pytest

from bots.builtin import runbook_exec
from bots.builtin.deploy import DeployBot
from bots.builtin.models import RunbookAction
from bots.builtin.runbook import RunbookBot
from chatserver.accounts.models import Role
from chatserver.audit.models import AuditEntry

PY = sys.executable


def _action(name, argv, params=None, **kw):
    action = RunbookAction(name=name, argv=argv, params=params or {}, **kw)
    action.full_clean()
    action.save()
    return action


def test_definitions_are_checked():
    for argv, params, why in [
        (["{prog}"], {"prog": {"type": "str"}}, r"argv\[0\]"),
        ([PY, "{x}"], {}, "undeclared"),
        ([PY], {"x": {"type": "shell"}}, "type"),
        ([PY], {"x": {"type": "choice", "choices": ["a b"]}}, "choices"),
        ("echo hi", {}, "list of strings"),
        ([PY, "{x!r}"], {"x": {"type": "str"}}, r"plain \{name\}"),
    ]:
        with pytest.raises(ValueError, match=why):
            runbook_exec.check_action(RunbookAction(name="x", argv=argv, params=params))


@pytest.mark.parametrize("value", ["; rm -rf /", "$(id)", "-rf", "a b", "`id`", "x\ny", ""])
def test_values_that_could_inject_are_refused(value):
    with pytest.raises(ValueError):
        runbook_exec.validate_value("target", {"type": "str"}, value)


def test_truncate_keeps_head_and_tail():
    text = "\n".join(f"line {i}" for i in range(1000))
    out = runbook_exec.truncate(text)
    assert out.startswith("line 0\n") and out.endswith("line 999")
    assert "940 lines omitted" in out


def test_run_list_params_policy_and_exit_status(botbox, tmp_path):
    box = botbox(RunbookBot)
    ann, ben = box.user("ann"), box.user("ben", role=Role.ADMIN)
    ops = box.room("ops", members=[ann, ben], bots=["runbook"])
    _action("greet", [PY, "-c", "import os,sys; print('hello', sys.argv[1], sys.argv[2], "
                                "os.getcwd(), os.environ.get('GREETING'), "
                                "os.environ.get('HOME'))", "{who}", "{times}"],
            {"who": {"type": "str", "pattern": r"[^\n]*"}, "times": {"type": "int", "max": 5,
                                                                 "default": 1}},
            cwd=str(tmp_path), env={"GREETING": "hi"}, description="say hello")
    _action("fail", [PY, "-c", "import sys; print('bad'); sys.exit(3)"])
    _action("admin-only", [PY, "-c", "print('secret')"], run_policy=["role:admin"])

    ann.says(ops, "@runbook list")
    listing = ops.expect_bot(contains="`greet` who=<str> times=<int>?")
    assert "say hello" in listing.body and "`fail`" in listing.body

    ann.says(ops, '@runbook run greet who="a;b $(id) `x`" times=2')
    out = ops.expect_bot(contains="✅ exit 0")
    assert f"hello a;b $(id) `x` 2 {tmp_path} hi None" in out.body.replace("ˋ", "`")

    ann.says(ops, "@runbook run greet who=x times=9")
    ann.expect_ephemeral("times must be between")
    ann.says(ops, "@runbook run greet times=2")
    ann.expect_ephemeral("missing who=<str>")
    ann.says(ops, "@runbook run greet who=x colour=red")
    ann.expect_ephemeral("unknown parameter 'colour'")
    ann.says(ops, "@runbook run greet who")
    ann.expect_ephemeral("key=value")

    ann.says(ops, "@runbook run fail")
    ops.expect_bot(contains="❌ exit 3")
    ann.says(ops, "@runbook run admin-only")
    ops.expect_bot(contains="`admin-only` needs role:admin")
    ben.says(ops, "@runbook run admin-only")
    assert "secret" in ops.expect_bot(contains="✅ exit 0").body
    ann.says(ops, "@runbook run nope")
    ops.expect_bot(contains="There is no action `nope`")
    entry = AuditEntry.objects.filter(action="runbook.run").order_by("id").first()
    assert entry.detail["exit_code"] == 0 and entry.detail["params"]["times"] == "2"


def test_streaming_timeout_and_approval(botbox, monkeypatch):
    from bots.builtin import runbook

    monkeypatch.setattr(runbook, "PROGRESS_EVERY", 0.05)
    box = botbox(RunbookBot)
    ann, ben = box.user("ann"), box.user("ben")
    ops = box.room("ops", admins=[ann, ben], bots=["runbook"])
    _action("count", [PY, "-c", "import time\nfor i in range(400):\n print('n', i, flush=True)"
                                "\n if i % 100 == 0: time.sleep(0.3)"])
    _action("hang", [PY, "-c", "import time; print('zzz', flush=True); time.sleep(60)"],
            timeout_seconds=1)
    _action("danger", [PY, "-c", "print('done danger')"], needs_approval=True)

    ann.says(ops, "@runbook run count")
    msg = ops.expect_bot(contains="✅ exit 0")
    assert "n 0" in msg.body and "n 399" in msg.body and "lines omitted" in msg.body
    from chatserver.events.models import RoomEvent

    edits = RoomEvent.objects.filter(room=ops.room, type="message.edited").count()
    assert edits >= 3  # streamed: edited while running, then the final report

    ann.says(ops, "@runbook run hang")
    hung = ops.expect_bot(contains="killed after the 1 s timeout")
    assert "zzz" in hung.body

    ann.says(ops, "@runbook run danger")
    card = ops.expect_bot(contains="Approval needed")
    run_id = card.body.split("#")[1].split(":")[0]
    assert not [m for m in ops.bot_messages() if "done danger" in m.body]
    ben.says(ops, f"@runbook approve {run_id}")
    ops.expect_bot(contains="done danger")


def test_deploy_locks_and_two_person_rule(botbox):
    box = botbox(DeployBot)
    ann, ben = box.user("ann"), box.user("ben")
    ops = box.room("ops", admins=[ann, ben], bots=["deploy"])
    ann.says(ops, "@deploy deploy api staging")
    ops.expect_bot(contains="There is no action `deploy`")
    _action("deploy", [PY, "-c", "import sys; print('deploying', *sys.argv[1:])",
                       "{service}", "{env}", "{ref}"],
            {"service": {"type": "choice", "choices": ["api", "web"]},
             "env": {"type": "choice", "choices": ["staging", "production"]},
             "ref": {"type": "str"}})
    ann.says(ops, "@deploy deploy api staging --ref v1.2")
    assert "deploying api staging v1.2" in ops.expect_bot(contains="✅ exit 0").body
    ops.expect_bot(contains="🚀 Deployed api@v1.2 to staging.")
    ann.says(ops, "@deploy deploy db staging")
    ann.expect_ephemeral("service must be one of api, web")

    ben.says(ops, "@deploy lock staging migrating the db")
    ops.expect_bot(contains="🔒 staging locked by @ben: migrating the db")
    ann.says(ops, "@deploy deploy api staging")
    ops.expect_bot(contains="staging is locked by @ben (migrating the db)")
    ann.says(ops, "@deploy locks")
    ops.expect_bot(contains="**staging**: locked by @ben")
    ben.says(ops, "@deploy unlock staging")
    ops.expect_bot(contains="🔓 staging unlocked by @ben.")

    ann.says(ops, "@deploy deploy web production")
    card = ops.expect_bot(contains="Approval needed")
    run_id = card.body.split("#")[1].split(":")[0]
    ann.says(ops, f"@deploy approve {run_id}")
    ann.expect_ephemeral("cannot approve your own")
    ben.says(ops, f"@deploy approve {run_id}")
    ops.expect_bot(contains="🚀 Deployed web@main to production.")


def test_cancel_kills_the_process(botbox):
    import time

    from bots.models import BotRun
    from chatserver.chat import actions

    box = botbox(RunbookBot)
    ann = box.user("ann")
    ops = box.room("ops", members=[ann], bots=["runbook"])
    _action("sleepy", [PY, "-c", "import time; print('zzz', flush=True); time.sleep(60)"],
            timeout_seconds=120)
    started = time.monotonic()
    actions.post_message(actor=ann.user, room_id=ops.id, body="@runbook run sleepy")
    for _ in range(200):
        run = BotRun.objects.filter(command="run", status="running").first()
        if run is not None:
            break
        time.sleep(0.05)
    assert run is not None
    for _ in range(100):  # wait until the process has started
        if any("▶️" in m.body for m in ops.bot_messages()):
            break
        time.sleep(0.05)
    ann.says(ops, f"@runbook cancel {run.id}")
    ops.expect_bot(contains="`run` was cancelled")
    for _ in range(100):  # the worker thread kills the process and reports it
        if any("✖️ cancelled" in m.body for m in ops.bot_messages()):
            break
        time.sleep(0.05)
    final = ops.expect_bot(contains="✖️ cancelled")
    assert "zzz" in final.body
    assert time.monotonic() - started < 30  # killed, not waited for
    assert BotRun.objects.get(id=run.id).status == "cancelled"
