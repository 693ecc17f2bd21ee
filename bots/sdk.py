"""The bot SDK: what a bot author imports.

    from bots.sdk import Bot, command, listen, every, cron, webhook, UsageError

    class Deploy(Bot):
        '''Deploy services.'''
        name = "deploy"

        @command("deploy <service> <env:choice(staging,production)> [--force]",
                 run="room:member", when=[(lambda a: a["env"] == "production", "role:admin")],
                 approve=lambda a: a["env"] == "production")
        async def deploy(self, ctx, service, env, force=False):
            await ctx.reply(f"deploying {service} to {env}")

Everything a declaration says is checked when the class is defined (the
grammar, the handler's parameters, the access principals, command collisions),
so a mistake is an import error and never a surprise at run time.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from .grammar import Grammar, GrammarError, UsageError, parse_duration, parse_spec

__all__ = ["Bot", "Command", "CommandError", "GrammarError", "Listener", "Schedule",
           "UsageError", "Webhook", "command", "cron", "every", "listen", "webhook"]

# Words every bot answers itself (runtime built-ins); commands may not take them.
RESERVED = ("help", "approve", "deny", "cancel")
PRINCIPAL = re.compile(r"^(everyone|room:member|room:admin|site:admin|dm|"
                       r"role:(owner|admin|member|guest)|user:\d+)$")


class CommandError(Exception):
    """Raised by a handler on purpose: its message is shown as is, no traceback."""


Principals = tuple[str, ...]


def _principals(value: str | list[str] | tuple[str, ...], where: str) -> Principals:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items:
        raise GrammarError(f"{where}: an empty principal list would let nobody in")
    for item in items:
        if not isinstance(item, str) or not PRINCIPAL.match(item):
            raise GrammarError(
                f"{where}: unknown principal {item!r}; use everyone, room:member, room:admin, "
                "site:admin, dm, role:<owner|admin|member|guest> or user:<id>")
    return items


def _seconds(value: str | int | float, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = parse_duration(value).total_seconds()
        except UsageError as exc:
            raise GrammarError(f"{where}: {exc}") from None
    else:
        raise GrammarError(f"{where}: a duration is a number of seconds or text like '10m'")
    if seconds <= 0:
        raise GrammarError(f"{where}: a duration must be positive")
    return seconds


@dataclass(frozen=True)
class Command:
    """A declared command. `ask` may see it in help (and run it if readonly);
    `run` may run it; each (predicate, principals) in `when` adds a requirement
    that applies when the predicate holds for the parsed arguments."""

    grammar: Grammar
    handler: Callable[..., Any]
    description: str
    examples: tuple[str, ...]
    readonly: bool
    ask: Principals
    run: Principals
    when: tuple[tuple[Callable[[dict[str, Any]], bool], Principals], ...]
    rooms: tuple[str, ...]
    approve: bool | Callable[[dict[str, Any]], bool]
    approve_expiry: float
    timeout: float

    @property
    def name(self) -> str:
        return self.grammar.name

    @property
    def usage(self) -> str:
        return self.grammar.usage()

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.handler)


@dataclass(frozen=True)
class Listener:
    pattern: re.Pattern[str]
    handler: Callable[..., Any]
    timeout: float

    @property
    def name(self) -> str:
        return self.handler.__name__


@dataclass(frozen=True)
class Schedule:
    handler: Callable[..., Any]
    interval: float | None = None  # seconds
    cron: str | None = None
    tz: str = "UTC"
    room: str | None = None  # room name the job's ctx.reply posts to
    timeout: float = 30.0

    @property
    def name(self) -> str:
        return self.handler.__name__


@dataclass(frozen=True)
class Webhook:
    name: str
    handler: Callable[..., Any]
    room: str | None = None
    timeout: float = 30.0


def _meta(fn: Callable[..., Any]) -> dict[str, Any]:
    if not callable(fn):
        raise GrammarError("decorate a function")
    meta = fn.__dict__.setdefault("__bot_meta__", {})
    return meta


def command(spec: str, *, description: str | None = None, examples: list[str] | None = None,
            readonly: bool = False, ask: str | list[str] = "everyone",
            run: str | list[str] = "room:member",
            when: list[tuple[Callable[[dict[str, Any]], bool], str | list[str]]] | None = None,
            rooms: list[str] | None = None,
            approve: bool | Callable[[dict[str, Any]], bool] = False,
            approve_expiry: str | float = "10m", timeout: str | float = 30) -> Callable:
    """Declare a command handler `(self, ctx, **args)`; see the module docstring."""
    grammar = parse_spec(spec)
    where = f"command {grammar.name!r}"
    if grammar.words[0] in RESERVED:
        raise GrammarError(f"{where}: {grammar.words[0]!r} is answered by every bot itself")
    if not (isinstance(approve, bool) or callable(approve)):
        raise GrammarError(f"{where}: approve is True, False or a predicate on the arguments")
    conditions = []
    for item in when or []:
        if not (isinstance(item, tuple) and len(item) == 2 and callable(item[0])):
            raise GrammarError(f"{where}: when= takes (predicate, principals) pairs")
        conditions.append((item[0], _principals(item[1], where)))
    ask_p, run_p = _principals(ask, where), _principals(run, where)
    expiry, limit = _seconds(approve_expiry, where), _seconds(timeout, where)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        _check_signature(fn, grammar, where)
        doc = inspect.getdoc(fn) or ""
        _meta(fn)["command"] = Command(
            grammar=grammar, handler=fn,
            description=description if description is not None else doc.split("\n\n")[0],
            examples=tuple(examples or ()), readonly=readonly,
            ask=ask_p, run=run_p, when=tuple(conditions),
            rooms=tuple(r.lstrip("#").lower() for r in rooms or ()),
            approve=approve, approve_expiry=expiry, timeout=limit,
        )
        return fn

    return decorate


def _check_signature(fn: Callable[..., Any], grammar: Grammar, where: str) -> None:
    """The grammar's names must be exactly the handler's parameters after (self, ctx)."""
    params = list(inspect.signature(fn).parameters.values())[2:]
    have = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    want = {p.name for p in grammar.params}
    if any(p.kind == p.VAR_KEYWORD for p in params):
        have |= want
    if have != want:
        raise GrammarError(
            f"{where}: the handler {fn.__name__}() takes {sorted(have)} but the grammar "
            f"declares {sorted(want)}")
    for p in grammar.params:
        sig = next((q for q in params if q.name == p.name), None)
        if sig is not None and not p.required and sig.default is inspect.Parameter.empty:
            raise GrammarError(f"{where}: optional {p.name!r} needs a default in the handler")


def listen(pattern: str, *, flags: int = re.IGNORECASE, timeout: str | float = 10) -> Callable:
    """Run on every message matching `pattern` in rooms the bot is in. A listener
    gets `(self, ctx, match)` and may only reply (ctx.reply)."""
    try:
        compiled = re.compile(pattern, flags)
    except re.error as exc:
        raise GrammarError(f"listen({pattern!r}): {exc}") from None

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        _meta(fn)["listener"] = Listener(compiled, fn, _seconds(timeout, "listen"))
        return fn

    return decorate


def every(interval: str | float, *, room: str | None = None,
          timeout: str | float = 30) -> Callable:
    """Run `(self, ctx)` every interval (e.g. "5m"); ctx.reply posts in `room`."""
    seconds = _seconds(interval, "every")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        _meta(fn)["schedule"] = Schedule(fn, interval=seconds, room=_room_name(room),
                                         timeout=_seconds(timeout, "every"))
        return fn

    return decorate


def cron(expr: str, *, tz: str = "UTC", room: str | None = None,
         timeout: str | float = 30) -> Callable:
    """Run `(self, ctx)` on a cron expression ("0 9 * * 1-5") in time zone `tz`."""
    from zoneinfo import ZoneInfo

    from croniter import croniter

    if not croniter.is_valid(expr):
        raise GrammarError(f"cron({expr!r}): not a valid cron expression")
    try:
        ZoneInfo(tz)
    except Exception:
        raise GrammarError(f"cron({expr!r}): unknown time zone {tz!r}") from None

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        _meta(fn)["schedule"] = Schedule(fn, cron=expr, tz=tz, room=_room_name(room),
                                         timeout=_seconds(timeout, "cron"))
        return fn

    return decorate


def webhook(name: str, *, room: str | None = None, timeout: str | float = 30) -> Callable:
    """Receive `(self, ctx, payload)` for deliveries to this bot's hook `name`."""
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,40}", name or ""):
        raise GrammarError(f"webhook({name!r}): use a short lower-case name")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        _meta(fn)["webhook"] = Webhook(name, fn, _room_name(room), _seconds(timeout, "webhook"))
        return fn

    return decorate


def _room_name(room: str | None) -> str | None:
    return room.lstrip("#") if room else None


@dataclass
class BotSpec:
    commands: dict[tuple[str, ...], Command] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    webhooks: dict[str, Webhook] = field(default_factory=dict)


class Bot:
    """Base class of every bot. Subclasses set `name` (the bot user's username),
    optionally `display_name`, and a docstring whose first line is the help text."""

    name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    spec: ClassVar[BotSpec]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not re.fullmatch(r"[a-z][a-z0-9_-]{1,30}", cls.name or ""):
            raise GrammarError(f"{cls.__qualname__}: set name = 'lowercase-name' (2-31 chars)")
        spec = BotSpec()
        for attr in dir(cls):
            meta = getattr(getattr(cls, attr, None), "__bot_meta__", None)
            if not meta:
                continue
            if "command" in meta:
                cmd: Command = meta["command"]
                if cmd.grammar.words in spec.commands:
                    raise GrammarError(f"{cls.__qualname__}: two commands named {cmd.name!r}")
                spec.commands[cmd.grammar.words] = cmd
            if "listener" in meta:
                spec.listeners.append(meta["listener"])
            if "schedule" in meta:
                spec.schedules.append(meta["schedule"])
            if "webhook" in meta:
                hook: Webhook = meta["webhook"]
                if hook.name in spec.webhooks:
                    raise GrammarError(f"{cls.__qualname__}: two webhooks named {hook.name!r}")
                spec.webhooks[hook.name] = hook
        check_collisions(cls.__qualname__, list(spec.commands.values()))
        cls.spec = spec

    @classmethod
    def description(cls) -> str:
        return (inspect.getdoc(cls) or "").split("\n\n")[0].strip()

    @classmethod
    def find_command(cls, words: list[str]) -> tuple[Command | None, int]:
        """The command whose words start `words`, longest first; with how many words it took."""
        lowered = [w.lower() for w in words]
        for n in range(min(len(lowered), max((len(k) for k in cls.spec.commands), default=0)),
                       0, -1):
            cmd = cls.spec.commands.get(tuple(lowered[:n]))
            if cmd is not None:
                return cmd, n
        return None, 0

    @classmethod
    def interval_of(cls, schedule: Schedule) -> timedelta | None:
        return timedelta(seconds=schedule.interval) if schedule.interval else None


def check_collisions(owner: str, commands: list[Command]) -> None:
    """Two commands that could both match one text are an error.

    `lock <name>` and `lock add <name>` collide (`lock add x` fits both); `lock
    <env:choice(a,b)>` and `lock add <name>` do not, since `add` is no env.
    """
    for a in commands:
        for b in commands:
            wa, wb = a.grammar.words, b.grammar.words
            if a is b or len(wa) >= len(wb) or wb[:len(wa)] != wa:
                continue
            if a.grammar.could_take(wb[len(wa)]):
                raise GrammarError(
                    f"{owner}: {a.usage!r} and {b.usage!r} could both match "
                    f"{' '.join(wb)!r}; rename one or narrow the first parameter's type")
