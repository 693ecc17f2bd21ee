"""Bots search the history as the caller (issue 5): ctx.search() and `@help search`."""

from __future__ import annotations

from bots.sdk import Bot, command
from chatserver.chat import actions
from chatserver.search import SYNTAX_HELP


class FinderBot(Bot):
    """Finds messages."""

    name = "finder"

    @command("find <words:rest>")
    def find(self, ctx, words):
        """Search the history for <words>, newest first."""
        page = ctx.search(words, sort="recent", limit=5)
        found = [f"#{r['room']['name']}: {r['message']['body']}" for r in page.results]
        ctx.reply("\n".join(found) if found else "Nothing found.")


def test_a_bot_searches_only_what_the_caller_may_read(botbox):
    box = botbox(FinderBot)
    alice, bob = box.user("alice"), box.user("bob")
    ops = box.room("ops", members=[alice, bob], bots=["finder"])
    secret = box.room("secret", members=[bob], visibility="private")
    actions.post_message(actor=bob.user, room_id=ops.id, body="deploy of api went fine")
    actions.post_message(actor=bob.user, room_id=secret.id, body="deploy of the vault key")

    alice.says(ops, "@finder find deploy")
    answer = ops.expect_bot("#ops: deploy of api went fine").body
    assert "vault" not in answer  # alice cannot read #secret, so her bot cannot either

    bob.says(ops, "@finder find deploy")
    assert "#secret: deploy of the vault key" in ops.expect_bot("vault").body

    alice.says(ops, "@finder find deploy before:2026-13-45")
    ops.expect_bot("before:2026-13-45 is not a real date")  # the reason, not a traceback


def test_help_search_explains_the_syntax(botbox):
    box = botbox(FinderBot)
    alice = box.user("alice")
    ops = box.room("ops", members=[alice])
    alice.says(ops, "@help search")
    text = alice.expect_ephemeral("in:#")
    assert text.strip() == SYNTAX_HELP.strip()
