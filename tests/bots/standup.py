"""The bot of docs/bots.md, kept verbatim so the walk-through stays true."""

from __future__ import annotations

from bots.sdk import Bot, CommandError, command, every, listen


class Standup(Bot):
    """Collects stand-up notes and posts the summary."""   # first line = @help text

    name = "standup"          # the bot's username: @standup

    @command("note <text:rest>", examples=["note fixed the login bug"])
    async def note(self, ctx, text):
        """Add your note for today."""
        notes = await ctx.store.update("notes", lambda v: [*(v or []), [ctx.caller.username, text]])
        await ctx.reply(f"Noted ({len(notes)} so far).")

    @command("summary [--clear]", readonly=True)
    async def summary(self, ctx, clear=False):
        """Show today's notes."""
        notes = await ctx.store.get("notes", [])
        if not notes:
            raise CommandError("No notes yet.")          # shown as is, no traceback
        await ctx.reply("\n".join(f"- @{who}: {text}" for who, text in notes))
        if clear:
            await ctx.store.delete("notes")

    @command("reset", run="room:admin", approve=True)   # a second person must approve
    async def reset(self, ctx):
        await ctx.store.delete("notes")
        await ctx.reply("Notes cleared.")

    @listen(r"\bblocked\b")                             # any message in its rooms
    async def blocked(self, ctx, match):
        await ctx.reply("Blocked? Add it with `@standup note ...`.")

    @every("1d", room="team")                           # or @cron("0 9 * * 1-5", tz="Europe/Paris")
    async def daily(self, ctx):
        await ctx.reply("Stand-up time: `@standup note <what you did>`.")
