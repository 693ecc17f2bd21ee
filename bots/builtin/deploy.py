"""The deploy bot: BOTS.md's deploy grammar on top of the runbook action `deploy`.

`@deploy deploy <service> <env> [--ref=..] [--force]` runs the runbook action
named `deploy` (an admin defines its argv; it receives the parameters it
declares among service, env and ref). Production needs a second person's
approval. Environments can be locked (`lock`, `unlock`); a deploy to a locked
environment is refused unless `--force` (room admins), and only one deploy
per environment runs at a time.
"""

from __future__ import annotations

from bots.sdk import Bot, CommandError, command
from chatserver.chat import access
from chatserver.chat.models import Membership

from .runbook import check_policy, execute, find_action

ENVS = "staging,production"
ACTION = "deploy"


class DeployBot(Bot):
    """Deploy services through the `deploy` runbook action, with environment locks."""

    name = "deploy"
    display_name = "Deploy"

    @command(f"deploy <service> <env:choice({ENVS})> [--ref=<str>] [--force]",
             examples=["deploy api staging", "deploy web production --ref v1.4.2"],
             approve=lambda a: a["env"] == "production",
             when=[(lambda a: bool(a.get("force")), "room:admin")], timeout="1h")
    def deploy(self, ctx, service, env, ref="main", force=False):
        """Deploy a service to an environment (production needs a second person)."""
        action = find_action(ACTION)
        check_policy(ctx, action)
        lock = ctx.store.get(f"lock:{env}")
        if lock and lock["user_id"] != ctx.caller.id and not force:
            raise CommandError(f"{env} is locked by @{lock['username']}"
                               + (f" ({lock['reason']})" if lock.get("reason") else "")
                               + ". Ask them, or a room admin can use --force.")

        def start(current):
            if current:
                raise CommandError(f"A deploy to {env} is already running "
                                   f"(run #{current['run_id']} by @{current['username']}).")
            return {"run_id": ctx.run_id, "username": ctx.caller.username}

        ctx.store.update(f"running:{env}", start)
        try:
            given = {"service": service, "env": env, "ref": ref}
            declared = action.params or {}
            code = execute(ctx, action, {k: v for k, v in given.items() if k in declared},
                           title=f"deploy {service}@{ref} to {env}")
        finally:
            ctx.store.delete(f"running:{env}")
        if code == 0:
            ctx.reply(f"🚀 Deployed {service}@{ref} to {env}.")
        else:
            raise CommandError(f"Deploy of {service}@{ref} to {env} failed.")

    @command(f"lock <env:choice({ENVS})> [<reason:rest>]",
             examples=["lock production db migration"])
    def lock(self, ctx, env, reason=None):
        """Hold an environment: nobody else deploys there until you unlock it."""
        entry = {"user_id": ctx.caller.id, "username": ctx.caller.username,
                 "reason": (reason or "").strip()[:200]}

        def take(current):
            if current and current["user_id"] != ctx.caller.id:
                raise CommandError(f"{env} is already locked by @{current['username']}.")
            return entry

        ctx.store.update(f"lock:{env}", take)
        ctx.reply(f"🔒 {env} locked by @{ctx.caller.username}"
                  + (f": {entry['reason']}" if entry["reason"] else "."))

    @command(f"unlock <env:choice({ENVS})>", examples=["unlock production"])
    def unlock(self, ctx, env):
        """Release a lock (its holder, or a room admin)."""
        lock = ctx.store.get(f"lock:{env}")
        if not lock:
            raise CommandError(f"{env} is not locked.")
        membership = Membership.objects.filter(room=ctx.room, user=ctx.caller).first()
        if lock["user_id"] != ctx.caller.id and not access.is_room_admin(ctx.caller, membership):
            raise CommandError(f"Only @{lock['username']} or a room admin may unlock {env}.")
        ctx.store.delete(f"lock:{env}")
        ctx.reply(f"🔓 {env} unlocked by @{ctx.caller.username}.")

    @command("locks", readonly=True)
    def locks(self, ctx):
        """Which environments are locked or being deployed."""
        lines = []
        for env in ENVS.split(","):
            lock, running = ctx.store.get(f"lock:{env}"), ctx.store.get(f"running:{env}")
            state = f"locked by @{lock['username']}" if lock else "free"
            if lock and lock.get("reason"):
                state += f" ({lock['reason']})"
            if running:
                state += f"; deploying now (run #{running['run_id']})"
            lines.append(f"- **{env}**: {state}")
        ctx.reply("\n".join(lines))
