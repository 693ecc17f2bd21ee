"""The built-in help bot: `@help` lists every bot and what it does."""

from __future__ import annotations

from bots.sdk import Bot, command


class HelpBot(Bot):
    """Lists every bot and its commands; `@bot help [command]` gives details."""

    name = "help"
    display_name = "Help"
    default_command = "bots"
    everywhere = True  # answers in any room, without being a member (answers are ephemeral)

    @command("bots [<bot>]", readonly=True, examples=["bots", "bots deploy"])
    def bots(self, ctx, bot=None):
        """List the bots (or one bot's commands) you may use here."""
        from bots.runtime import runtime
        from chatserver.chat.models import Membership

        membership = Membership.objects.filter(room=ctx.room, user=ctx.caller).first()
        handles = runtime.sync_users()
        if bot is not None:
            handle = handles.get(bot.lstrip("@").lower())
            if handle is None:
                ctx.ephemeral(f"There is no bot @{bot.lstrip('@')}. Try `@help`.")
                return
            lines = [f"**@{handle.name}** — {handle.cls.description()}"]
            lines += runtime.help_lines(handle, ctx.caller, ctx.room, membership)
            ctx.ephemeral("\n".join(lines))
            return
        in_room = set(Membership.objects.filter(
            room=ctx.room, user__is_bot=True).values_list("user_id", flat=True))
        lines = ["**Bots** (address one as `@name command` or `/name command`):"]
        for name in sorted(handles):
            handle = handles[name]
            count = len(runtime.help_lines(handle, ctx.caller, ctx.room, membership))
            where = "" if handle.user.id in in_room or name == self.name else \
                " (not in this room)"
            lines.append(f"- **@{name}** — {handle.cls.description()} "
                         f"({count} command{'s' if count != 1 else ''}){where}")
        lines.append("`@name help` lists a bot's commands; `@name help <command>` shows usage.")
        ctx.ephemeral("\n".join(lines))

    @command("search", readonly=True, examples=["search"])
    def search(self, ctx):
        """How to search the history: the operators, with examples."""
        from chatserver.search import SYNTAX_HELP

        ctx.ephemeral(SYNTAX_HELP)
