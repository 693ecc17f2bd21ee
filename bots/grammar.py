"""The command grammar: one declaration drives parsing, validation, usage and help.

A spec is the command's words followed by its parameters:

    deploy <service> <env:choice(staging,production)> [--ref=<str>] [--force] [<note:rest>]

- `<name>` / `<name:type>`: a required positional; `[<name:type>]` an optional one.
- `[--flag]`: a boolean flag; `[--opt=<type>]` an option taking a value
  (written `--opt v`, `--opt=v` or `opt=v`; `k=v` counts only for declared
  options, so a URL holding `=` stays a plain value).
- Types: str (default), int, float, choice(a,b,...), duration (`10m`, `2h30m`),
  user (`@alice`), room (`#ops`), rest (the raw remaining text; last only).

Parsing never raises anything but UsageError, whose message is meant for the
person who typed the command.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

TYPES = ("str", "int", "float", "choice", "duration", "user", "room", "rest")
_SMART = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'",
                        "\u2014": "--", "\u2013": "-", "\u00a0": " "})
_PARAM = re.compile(r"^<([a-z_][a-z0-9_]*)(?::([a-z]+)(?:\(([^)]*)\))?)?>$")
_OPTION = re.compile(r"^--([a-z][a-z0-9-]*)(?:=<(?:[a-z_][a-z0-9_]*:)?([a-z]+)(?:\(([^)]*)\))?>)?$")
_WORD = re.compile(r"^[a-z][a-z0-9_-]*$")
_DURATION = re.compile(r"(\d+)\s*(d|h|m|s)")


class GrammarError(Exception):
    """A command declaration is wrong: raised at import time, for the bot's author."""


class UsageError(Exception):
    """A call does not fit the grammar: the message is shown to the caller."""


class Resolver(Protocol):
    """Turns `@name` and `#room` into database objects for the caller."""

    def user(self, name: str) -> Any: ...

    def room(self, name: str) -> Any: ...


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "str"
    choices: tuple[str, ...] = ()
    required: bool = True
    option: bool = False  # --name=<value>
    flag: bool = False  # --name

    @property
    def display(self) -> str:
        kind = self.type
        if self.type == "choice":
            kind = "|".join(self.choices)
        elif self.type == "str":
            kind = ""
        if self.flag:
            return f"[--{self.name.replace('_', '-')}]"
        if self.option:
            return f"[--{self.name.replace('_', '-')}=<{kind or 'str'}>]"
        inner = f"<{self.name}{':' + kind if kind else ''}{'...' if self.type == 'rest' else ''}>"
        return inner if self.required else f"[{inner}]"


@dataclass(frozen=True)
class Grammar:
    words: tuple[str, ...]
    params: tuple[Param, ...]

    @property
    def name(self) -> str:
        return " ".join(self.words)

    @property
    def positionals(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not p.option and not p.flag)

    @property
    def options(self) -> dict[str, Param]:
        return {p.name: p for p in self.params if p.option or p.flag}

    def usage(self) -> str:
        return " ".join([*self.words, *(p.display for p in self.params)])

    def could_take(self, word: str) -> bool:
        """Whether `word` right after this command's words could be its first positional."""
        if not self.positionals:
            return False
        first = self.positionals[0]
        try:
            _convert(first, word, None)
        except UsageError:
            return False
        return True


def parse_spec(spec: str) -> Grammar:
    """Read a declaration; raise GrammarError with the reason if it is malformed."""
    if not isinstance(spec, str) or not spec.strip():
        raise GrammarError("a command needs a spec such as 'status [<env>]'")
    words: list[str] = []
    params: list[Param] = []
    names: set[str] = set()
    for token in spec.split():
        optional = token.startswith("[") and token.endswith("]")
        body = token[1:-1] if optional else token
        if not params and _WORD.match(token):
            words.append(token)
            continue
        m = _OPTION.match(body)
        if m:
            if not optional:
                raise GrammarError(f"{spec!r}: options are optional, write [{body}]")
            name = m.group(1).replace("-", "_")
            if m.group(2):
                kind, arg = _check_type(spec, m.group(2), m.group(3))
                param = Param(name, kind, arg, required=False, option=True)
            else:
                param = Param(name, "bool", required=False, flag=True)
        else:
            m = _PARAM.match(body)
            if not m:
                raise GrammarError(f"{spec!r}: cannot read {token!r}")
            kind, arg = _check_type(spec, m.group(2) or "str", m.group(3))
            param = Param(m.group(1), kind, arg, required=not optional)
            positionals = [p for p in params if not p.option and not p.flag]
            if positionals and positionals[-1].type == "rest":
                raise GrammarError(f"{spec!r}: a rest parameter must be the last one")
            if param.required and positionals and not positionals[-1].required:
                raise GrammarError(f"{spec!r}: a required parameter after an optional one")
        if param.name in names or param.name in ("ctx", "self"):
            raise GrammarError(f"{spec!r}: parameter name {param.name!r} is used twice or reserved")
        names.add(param.name)
        params.append(param)
    if not words:
        raise GrammarError(f"{spec!r}: a command starts with its name")
    return Grammar(tuple(words), tuple(params))


def _check_type(spec: str, kind: str, arg: str | None) -> tuple[str, tuple[str, ...]]:
    if kind not in TYPES:
        raise GrammarError(f"{spec!r}: unknown type {kind!r} (known: {', '.join(TYPES)})")
    if kind == "choice":
        choices = tuple(c.strip().lower() for c in (arg or "").split(",") if c.strip())
        if not choices:
            raise GrammarError(f"{spec!r}: choice() needs at least one value")
        return kind, choices
    if arg is not None:
        raise GrammarError(f"{spec!r}: type {kind!r} takes no arguments")
    return kind, ()


# --- reading a call ---------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    text: str
    start: int  # offset in the normalised input, for `rest`
    quoted: bool


def normalise(text: str) -> str:
    """Smart quotes and dashes (phones and rich editors) become the ASCII ones."""
    return text.translate(_SMART)


def _opens_quote(text: str, i: int, start: int) -> bool:
    """Whether the quote at text[i] starts a quoted part. A double quote always does;
    a single quote only at the start of a word or after `=` and when it is closed
    later, so apostrophes (don't, it's, 'til) stay plain text."""
    if text[i] == '"':
        return True
    return (i == start or text[i - 1] == "=") and text.find("'", i + 1) >= 0


def tokenize(text: str) -> list[Token]:
    """Split on whitespace, honouring "double" and 'single' quotes."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, buf, quoted = i, [], False
        while i < n and not text[i].isspace():
            ch = text[i]
            if ch in "\"'" and _opens_quote(text, i, start):
                end = text.find(ch, i + 1)
                if end < 0:
                    raise UsageError(f"Unclosed quote {ch} in the command.")
                buf.append(text[i + 1:end])
                quoted = True
                i = end + 1
            else:
                buf.append(ch)
                i += 1
        tokens.append(Token("".join(buf), start, quoted))
    return tokens


@dataclass
class Invocation:
    grammar: Grammar
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> str:
        return self.grammar.name

    def canonical(self) -> str:
        """The call as one normal text: what approvers see and audit records."""
        parts = list(self.grammar.words)
        for p in self.grammar.params:
            value = self.args.get(p.name)
            if p.flag:
                if value:
                    parts.append(f"--{p.name.replace('_', '-')}")
                continue
            if value is None:
                continue
            text = display_value(p, value)
            if p.option:
                parts.append(f"--{p.name.replace('_', '-')}={text}")
            else:
                parts.append(text)
        return " ".join(parts)


def display_value(p: Param, value: Any) -> str:
    if p.type == "user":
        return f"@{value.username}"
    if p.type == "room":
        return f"#{value.name}"
    if p.type == "duration":
        return format_duration(value)
    text = str(value)
    if p.type == "rest":
        return text
    return f'"{text}"' if (not text or any(c.isspace() or c in "\"'" for c in text)) else text


def parse_duration(text: str) -> timedelta:
    t = text.strip().lower()
    pos, total = 0, 0
    for m in _DURATION.finditer(t):
        if t[pos:m.start()].strip():
            break
        total += int(m.group(1)) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[m.group(2)]
        pos = m.end()
    if pos == 0 or t[pos:].strip() or total <= 0 or total > 366 * 86400:
        raise UsageError(f"{text!r} is not a duration: write e.g. 30s, 10m, 2h30m or 1d.")
    return timedelta(seconds=total)


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


def format_time(value: datetime, tz: str) -> str:
    """An instant as a reader in zone `tz` sees it: "Mon 2027-03-22 09:00 CET"."""
    return value.astimezone(ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M %Z")


def _convert(p: Param, text: str, resolver: Resolver | None) -> Any:
    label = f"<{p.name}>" if not (p.option or p.flag) else f"--{p.name.replace('_', '-')}"
    if p.type in ("str", "rest"):
        return text
    if p.type == "int":
        if not re.fullmatch(r"[+-]?\d{1,18}", text):
            raise UsageError(f"{label} must be a whole number, not {text!r}.")
        return int(text)
    if p.type == "float":
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{label} must be a number, not {text!r}.") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise UsageError(f"{label} must be a finite number.")
        return value
    if p.type == "choice":
        low = text.lower()
        if low in p.choices:
            return low
        hint = difflib.get_close_matches(low, p.choices, n=1)
        more = f" Did you mean {hint[0]}?" if hint else ""
        raise UsageError(f"{label} must be one of {', '.join(p.choices)}, not {text!r}.{more}")
    if p.type == "duration":
        return parse_duration(text)
    if p.type == "user":
        name = text.removeprefix("@")
        if not name:
            raise UsageError(f"{label} must name a user, like @alice.")
        if resolver is None:
            return name
        user = resolver.user(name)
        if user is None:
            raise UsageError(f"There is no user @{name}.")
        return user
    if p.type == "room":
        name = text.removeprefix("#")
        if not name:
            raise UsageError(f"{label} must name a room, like #ops.")
        if resolver is None:
            return name
        room = resolver.room(name)
        if room is None:
            raise UsageError(f"There is no room #{name} that you can see.")
        return room
    raise UsageError(f"{label}: unknown type {p.type}")  # unreachable: checked at declaration


def parse_args(grammar: Grammar, text: str, tokens: list[Token],
               resolver: Resolver | None = None) -> Invocation:
    """Parse the tokens after the command's words. `text` is the normalised input
    the tokens were cut from (a rest parameter takes its raw remainder)."""
    inv = Invocation(grammar)
    options = grammar.options
    positionals = list(grammar.positionals)
    values: list[tuple[Param, str]] = []
    i = 0
    only_positional = False
    while i < len(tokens):
        tok = tokens[i]
        if positionals and positionals[0].type == "rest" and not tok.text.startswith("--"):
            p = positionals.pop(0)
            values.append((p, text[tok.start:].strip()))
            break
        if not only_positional and not tok.quoted and tok.text == "--":
            only_positional = True
            i += 1
            continue
        if not only_positional and not tok.quoted and tok.text.startswith("--"):
            key, eq, val = tok.text[2:].partition("=")
            found = options.get(key.replace("-", "_"))
            if found is None:
                known = [f"--{o.replace('_', '-')}" for o in options]
                hint = difflib.get_close_matches(f"--{key}", known, n=1)
                more = f" Did you mean {hint[0]}?" if hint else ""
                raise UsageError(f"Unknown option --{key}.{more}")
            p = found
            if p.name in inv.args:
                raise UsageError(f"--{key} is given twice.")
            if p.flag:
                if eq:
                    raise UsageError(f"--{key} is a flag and takes no value.")
                inv.args[p.name] = True
            else:
                if not eq:
                    i += 1
                    if i >= len(tokens):
                        raise UsageError(f"--{key} needs a value.")
                    val = tokens[i].text
                values.append((p, val))
                inv.args[p.name] = None  # placeholder: converted below
            i += 1
            continue
        if not only_positional and not tok.quoted and "=" in tok.text:
            key, _, val = tok.text.partition("=")
            named = options.get(key.replace("-", "_"))
            if named is not None and named.option:
                if named.name in inv.args:
                    raise UsageError(f"{key} is given twice.")
                values.append((named, val))
                inv.args[named.name] = None
                i += 1
                continue
        if not positionals:
            raise UsageError(f"Too many arguments: {tok.text!r} is not expected.")
        p = positionals.pop(0)
        values.append((p, tok.text))
        i += 1
    for p, raw in values:
        inv.args[p.name] = _convert(p, raw, resolver)
    missing = [p for p in positionals if p.required]
    if missing:
        raise UsageError(f"Missing {' '.join(f'<{p.name}>' for p in missing)}.")
    for p in grammar.params:
        if p.flag:
            inv.args.setdefault(p.name, False)
    return inv


# --- freezing an invocation (approvals) ---------------------------------------------------


def freeze(inv: Invocation) -> dict[str, Any]:
    """A JSON form of the parsed arguments: users and rooms by id, durations in seconds."""
    out: dict[str, Any] = {}
    for p in inv.grammar.params:
        value = inv.args.get(p.name)
        if value is None:
            continue  # absent: the handler's default applies
        if p.type in ("str", "rest", "int", "float", "choice", "bool"):
            out[p.name] = value
        elif p.type in ("user", "room"):
            out[p.name] = value.id
        elif p.type == "duration":
            out[p.name] = int(value.total_seconds())
    return out


def thaw(grammar: Grammar, data: dict[str, Any], load: Callable[[str, int], Any]) -> Invocation:
    inv = Invocation(grammar)
    for p in grammar.params:
        if p.name not in data:
            continue
        value = data[p.name]
        if value is not None and p.type in ("user", "room"):
            value = load(p.type, value)
            if value is None:
                raise UsageError(f"The {p.type} of <{p.name}> no longer exists.")
        elif value is not None and p.type == "duration":
            value = timedelta(seconds=value)
        inv.args[p.name] = value
    return inv
