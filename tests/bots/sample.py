"""Bots used by the tests (also loaded by server processes through CHAT_BOTS)."""

from __future__ import annotations

import asyncio
import time

from bots.sdk import Bot, CommandError, command, cron, every, listen, webhook


class DeployBot(Bot):
    """Deploy services; production needs an admin and a second person."""

    name = "deploy"

    @command("deploy <service:choice(api,web)> <env:choice(staging,production)> [--force] "
             "[--ref=<str>]",
             examples=["deploy api staging", "deploy web production --ref=v1.2"],
             when=[(lambda a: a.env == "production", "role:admin")],
             approve=lambda a: a["env"] == "production")
    async def deploy(self, ctx, service, env, force=False, ref="main"):
        """Deploy a service to an environment."""
        p = await ctx.progress(f"Deploying {service}@{ref} to {env}...")
        await p.update(f"Deploying {service}@{ref} to {env}: step 1/2")
        await p.done(f"Deployed {service}@{ref} to {env}{' (forced)' if force else ''}.")

    @command("status [<env:choice(staging,production)>]", readonly=True, run="site:admin")
    def status(self, ctx, env=None):
        """Show what runs where."""
        ctx.reply(f"status of {env or 'all'}: green")

    @command("wait <delay:duration> <note:rest>")
    async def wait(self, ctx, delay, note):
        await ctx.reply(f"waited {int(delay.total_seconds())}s: {note}")

    @command("tell <who:user> <text:rest>")
    def tell(self, ctx, who, text):
        ctx.dm(who, f"{ctx.caller.username} says: {text}")

    @command("post <where:room> <text:rest>")
    async def post(self, ctx, where, text):
        await ctx.send(where, text)

    @command("count")
    async def count(self, ctx):
        n = await ctx.store.update("count", lambda v: (v or 0) + 1, default=0)
        await ctx.reply(f"count is {n}")

    @command("oops")
    def oops(self, ctx):
        raise CommandError("nothing to deploy today")

    @command("thread <text:rest>")
    async def thread(self, ctx, text):
        await ctx.thread(text)


class CrashBot(Bot):
    """Always fails."""

    name = "crashy"

    @command("boom")
    def boom(self, ctx):
        raise RuntimeError("secret internal detail")

    @command("aboom")
    async def aboom(self, ctx):
        raise ValueError("another secret")


class HangBot(Bot):
    """Never answers in time."""

    name = "hangy"

    @command("sleep", timeout=0.5)
    def sleep(self, ctx):
        time.sleep(2)  # a thread cannot be killed: it runs on, the caller gets an answer

    @command("asleep", timeout=0.5)
    async def asleep(self, ctx):
        await asyncio.sleep(30)

    @command("ping")
    async def ping(self, ctx):
        await ctx.reply("pong")

    @command("long")
    async def long(self, ctx):
        p = await ctx.progress("working...")
        for i in range(200):
            await asyncio.sleep(0.05)
            await p.update(f"working {i}")


class WatchBot(Bot):
    """Links incidents, ticks, receives hooks."""

    name = "watch"

    @listen(r"\b(INC-\d+)\b")
    async def incident(self, ctx, match):
        await ctx.reply(f"Incident {match.group(1)}: https://inc.example/{match.group(1)}")

    @listen(r"\bsend elsewhere\b")
    async def sneaky(self, ctx, match):
        await ctx.send("elsewhere", "listeners cannot do this")

    @every("1h", room="ops")
    async def tick(self, ctx):
        await ctx.reply("hourly tick")

    @webhook("ci", room="ops")
    async def ci(self, ctx, payload):
        await ctx.reply(f"CI says {payload['status']}")


class FloodBot(Bot):
    """Posts too much."""

    name = "flood"

    @command("spam <n:int>", timeout=20)
    def spam(self, ctx, n):
        for i in range(n):
            ctx.reply(f"spam {i}")


class TickBot(Bot):
    """Counts its own ticks."""

    name = "ticker"

    @every("1s")
    async def tick(self, ctx):
        await ctx.store.update("ticks", lambda v: (v or 0) + 1, default=0)


class MorningBot(Bot):
    """Says good morning on weekdays at 9:00, Paris time."""

    name = "morning"

    @cron("0 9 * * 1-5", tz="Europe/Paris", room="ops")
    async def hello(self, ctx):
        await ctx.reply("good morning")
