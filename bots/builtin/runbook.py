"""The runbook bot: run admin-defined, allow-listed actions from chat.

Actions are RunbookAction rows (Django admin or /api/v1/admin/bots/runbook-
actions). `@runbook run <action> key=value ...` validates every value against
its declared type, checks the action's own run policy for the caller, asks for
a second person when the action needs approval, then runs the argv (never a
shell) with the action's cwd, environment allow-list and timeout. The output
is streamed by editing one message (at most every 2 s), truncated to its head
and tail, and the exit status is reported.
"""

from __future__ import annotations

import shlex

from bots import acl
from bots.grammar import UsageError, normalise, tokenize
from bots.sdk import Bot, CommandError, command
from chatserver.audit import log as audit
from chatserver.chat.models import Membership

from . import runbook_exec
from .models import RunbookAction

PROGRESS_EVERY = 2.0


def find_action(name: str) -> RunbookAction:
    action = RunbookAction.objects.filter(name=name.lower(), enabled=True).first()
    if action is None:
        names = ", ".join(RunbookAction.objects.filter(enabled=True).order_by("name")
                          .values_list("name", flat=True))
        raise CommandError(f"There is no action `{name}`." +
                           (f" Actions: {names}." if names else " An admin can define one."))
    return action


def _needs_approval(args) -> bool:
    return RunbookAction.objects.filter(name=str(args["action"]).lower(), enabled=True,
                                        needs_approval=True).exists()


def parse_params(text: str | None) -> dict[str, str]:
    given: dict[str, str] = {}
    for token in tokenize(normalise(text or "")):
        key, eq, value = token.text.partition("=")
        if not eq or not key:
            raise UsageError(f"Give parameters as key=value, not {token.text!r}.")
        given[key.lower()] = value
    return given


def check_policy(ctx, action: RunbookAction) -> None:
    policy = tuple(action.run_policy or ("room:member",))
    membership = Membership.objects.filter(room=ctx.room, user=ctx.caller).first()
    try:
        ok = acl.allowed(policy, ctx.caller, ctx.room, membership)
    except Exception:
        ok = False  # fail closed
    if not ok:
        raise CommandError(f"`{action.name}` needs {acl.describe(policy)}.")


def execute(ctx, action: RunbookAction, given: dict[str, str], *, title: str) -> int | None:
    """Validate, run and report one action; returns the exit code (None: killed)."""
    try:
        argv, values = runbook_exec.bind(action, given)
    except ValueError as exc:
        raise UsageError(f"{action.name}: {exc}") from None
    shown = " ".join(shlex.quote(a) for a in argv)
    head = f"▶️ {title} (run #{ctx.run_id}) by @{ctx.caller.username}: `{shown[:300]}`"
    progress = ctx.progress(head + "\nstarting…")
    stopped = False

    def on_output(text: str) -> None:
        nonlocal stopped
        try:
            progress.update(f"{head}\n```\n{runbook_exec.truncate(text)}\n```\nrunning…")
        except CommandError:
            stopped = True  # cancelled: the loop sees it and kills the process

    result = runbook_exec.run(argv, cwd=action.cwd or None,
                              env=runbook_exec.environment(action),
                              timeout=float(action.timeout_seconds), on_output=on_output,
                              cancelled=lambda: stopped or ctx.check_cancelled(),
                              every=PROGRESS_EVERY)
    if result.timed_out:
        end = f"⏱️ killed after the {action.timeout_seconds} s timeout"
    elif result.cancelled:
        end = "✖️ cancelled"
    elif result.exit_code == 0:
        end = f"✅ exit 0 in {result.seconds:.1f} s"
    else:
        end = f"❌ exit {result.exit_code} in {result.seconds:.1f} s"
    output = runbook_exec.truncate(result.output) if result.output else "(no output)"
    progress.done(f"{head}\n```\n{output}\n```\n{end}")
    audit.record(actor=ctx.caller, action="runbook.run", target=f"runbook:{action.id}",
                 room=ctx.room, detail={"action": action.name, "argv": argv, "params": values,
                                        "exit_code": result.exit_code,
                                        "timed_out": result.timed_out, "run_id": ctx.run_id})
    return result.exit_code


def _param_usage(name: str, spec: dict) -> str:
    kind = "|".join(spec["choices"]) if spec.get("type") == "choice" else spec.get("type", "str")
    optional = not spec.get("required", True) or "default" in spec
    return f"{name}=<{kind}>" + ("?" if optional else "")


class RunbookBot(Bot):
    """Run the allow-listed operations actions admins defined (no shell, typed params)."""

    name = "runbook"
    display_name = "Runbook"

    @command("list", readonly=True)
    def list(self, ctx):
        """The actions you can run."""
        actions = list(RunbookAction.objects.filter(enabled=True).order_by("name"))
        if not actions:
            raise CommandError("No actions yet; an admin can define them.")
        lines = []
        for a in actions:
            params = " ".join(_param_usage(n, s) for n, s in (a.params or {}).items())
            flags = " (needs approval)" if a.needs_approval else ""
            lines.append(f"- `{a.name}` {params}".rstrip() + f" — {a.description}{flags}")
        ctx.reply("\n".join(lines))

    @command("run <action> [<params:rest>]", timeout="1h",
             approve=_needs_approval, examples=["run restart-service service=api"])
    def run(self, ctx, action, params=None):
        """Run an action with key=value parameters; output is streamed here."""
        found = find_action(action)
        check_policy(ctx, found)
        execute(ctx, found, parse_params(params), title=f"`{found.name}`")
