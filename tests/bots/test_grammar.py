"""The command grammar and declarations: parsing, validation, usage, collisions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bots.grammar import (
    GrammarError,
    UsageError,
    normalise,
    parse_args,
    parse_duration,
    parse_spec,
    tokenize,
)
from bots.sdk import Bot, command


def call(spec: str, text: str, resolver=None):
    g = parse_spec(spec)
    text = normalise(text)
    tokens = tokenize(text)
    assert [t.text for t in tokens[:len(g.words)]] == list(g.words)
    return parse_args(g, text, tokens[len(g.words):], resolver)


DEPLOY = ("deploy <service> <env:choice(staging,production)> [--force] [--ref=<str>] "
          "[--count=<int>]")


def test_typed_positionals_flags_and_options():
    inv = call(DEPLOY, "deploy api PRODUCTION --force --ref v1.2")
    assert inv.args == {"service": "api", "env": "production", "force": True, "ref": "v1.2"}
    assert inv.canonical() == "deploy api production --force --ref=v1.2"
    for text in ("deploy api staging --ref=v2", "deploy api staging ref=v2"):
        assert call(DEPLOY, text).args["ref"] == "v2"
    assert call(DEPLOY, "deploy api staging --count 3").args["count"] == 3
    assert call(DEPLOY, "deploy api staging").args["force"] is False


def test_equals_in_a_value_is_not_an_option():
    """st2#5074: a URL with '=' is a value unless its key is a declared option."""
    inv = call("get <url>", "get https://x.example/?a=b")
    assert inv.args["url"] == "https://x.example/?a=b"


@pytest.mark.parametrize(("text", "message"), [
    ("deploy api", "Missing <env>"),
    ("deploy api prod", "must be one of staging, production"),
    ("deploy api prodution", "Did you mean production?"),
    ("deploy api staging extra", "Too many arguments"),
    ("deploy api staging --forse", "Did you mean --force?"),
    ("deploy api staging --force --force", "given twice"),
    ("deploy api staging --force=yes", "takes no value"),
    ("deploy api staging --ref", "needs a value"),
    ("deploy api staging --count=many", "must be a whole number"),
    ('deploy "api staging', "Unclosed quote"),
])
def test_bad_calls_get_a_clear_reason(text, message):
    with pytest.raises(UsageError, match=message):
        call(DEPLOY, text)


def test_quotes_smart_quotes_and_rest():
    inv = call("say <who> <text:rest>", "say \u201cbig bob\u201d  hello   there\nline two")
    assert inv.args == {"who": "big bob", "text": "hello   there\nline two"}
    inv = call("note [<text:rest>]", "note")
    assert inv.args == {}  # absent optionals are left out: the handler's defaults apply
    assert call("run [--dry-run]", "run \u2014dry-run").args == {"dry_run": True}


def test_apostrophes_are_text_not_quotes():
    """`@remind me in 10m don't forget` must not fail on an "unclosed quote"."""
    assert [t.text for t in tokenize("me in 10m don't forget it's late")] == [
        "me", "in", "10m", "don't", "forget", "it's", "late"]
    assert [t.text for t in tokenize("note 'til tomorrow")] == ["note", "'til", "tomorrow"]
    assert [t.text for t in tokenize("say 'big bob' who='a b'")] == ["say", "big bob",
                                                                      "who=a b"]
    inv = call("say <who> <text:rest>", "say nina’s tea isn't ready")  # a phone's ’
    assert inv.args == {"who": "nina's", "text": "tea isn't ready"}


def test_durations():
    assert parse_duration("2h30m") == timedelta(hours=2, minutes=30)
    assert parse_duration("45s") == timedelta(seconds=45)
    for bad in ("10", "m", "5x", "0m", "10m later"):
        with pytest.raises(UsageError):
            parse_duration(bad)
    assert call("wait <d:duration>", "wait 1d2h").canonical() == "wait 1d2h"


def test_usage_string():
    assert parse_spec(DEPLOY).usage() == (
        "deploy <service> <env:staging|production> [--force] [--ref=<str>] [--count=<int>]")
    assert parse_spec("say [<text:rest>]").usage() == "say [<text:rest...>]"


@pytest.mark.parametrize(("spec", "message"), [
    ("", "needs a spec"),
    ("<x>", "starts with its name"),
    ("go <x:nope>", "unknown type"),
    ("go <x:choice()>", "at least one value"),
    ("go [<a>] <b>", "required parameter after an optional"),
    ("go <a:rest> <b>", "rest parameter must be the last"),
    ("go <a> <a>", "used twice"),
    ("go --force", "options are optional"),
    ("go {x}", "cannot read"),
])
def test_bad_declarations_fail_at_import(spec, message):
    with pytest.raises(GrammarError, match=message):
        parse_spec(spec)


def test_handler_signature_must_match_the_grammar():
    with pytest.raises(GrammarError, match="takes"):
        @command("go <where>")
        def go(self, ctx, there):
            pass
    with pytest.raises(GrammarError, match="needs a default"):
        @command("go [<where>]")
        def go2(self, ctx, where):
            pass


def test_colliding_commands_are_a_startup_error():
    with pytest.raises(GrammarError, match="could both match"):
        class Locks(Bot):
            name = "locks"

            @command("lock <name>")
            def lock(self, ctx, name):
                pass

            @command("lock add <name>")
            def add(self, ctx, name):
                pass


def test_commands_that_cannot_both_match_are_fine_and_longest_wins():
    class Locks(Bot):
        name = "locks"

        @command("lock <env:choice(staging,production)>")
        def lock(self, ctx, env):
            pass

        @command("lock add <name>")
        def add(self, ctx, name):
            pass

    cmd, n = Locks.find_command(["lock", "add", "x"])
    assert (cmd.name, n) == ("lock add", 2)
    cmd, n = Locks.find_command(["LOCK", "staging"])
    assert (cmd.name, n) == ("lock", 1)


def test_reserved_words_and_bad_principals_are_rejected():
    with pytest.raises(GrammarError, match="answered by every bot"):
        command("help me")
    with pytest.raises(GrammarError, match="unknown principal"):
        command("go", run="role:deployer")
    with pytest.raises(GrammarError, match="empty principal"):
        command("go", run=[])
    with pytest.raises(GrammarError, match="name ="):
        class Nameless(Bot):
            pass
