"""The bot runtime of one server process.

Flow: `chat.actions` calls `on_message_posted(message)` on the writer's thread
after commit; that only puts the message on a queue. The dispatcher thread
routes it (which bot, which command), claims it with a BotRun row unique on
(message, bot) so one process in the cluster handles it, parses and checks
access, and hands the handler to the bot's own worker: a thread with its own
event loop (async handlers, under a timeout) and a small thread pool (sync
handlers). A bot that hangs or crashes therefore only ever holds its own
threads; the socket path and the other bots never wait for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import inspect
import logging
import queue
import re
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections
from django.utils import timezone

from chatserver.accounts.models import Role, User
from chatserver.audit import log as audit
from chatserver.chat import access, actions, markdown
from chatserver.chat.errors import ChatError, Forbidden, RateLimited
from chatserver.chat.models import Membership, Room, Visibility
from chatserver.chat.payloads import iso, user_brief
from chatserver.events.tx import write_transaction

from . import acl
from .context import Context, SyncContext
from .grammar import Token, UsageError, freeze, normalise, parse_args, thaw, tokenize
from .sdk import RESERVED, Bot, Command, CommandError, Listener, Schedule

log = logging.getLogger(__name__)

SYNC_THREADS_PER_BOT = 4
ADDRESS = re.compile(r"^\s*[@/]([a-z][a-z0-9_-]*)(?=\s|$)(.*)$", re.IGNORECASE | re.DOTALL)


def load_class(path: str) -> type[Bot]:
    module, _, name = path.partition(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Bot)):
        raise TypeError(f"{path} is not a Bot subclass")
    return cls


class BotWorker:
    """One bot's event loop thread and its bounded pool for sync handlers."""

    def __init__(self, name: str):
        self.loop = asyncio.new_event_loop()
        self.executor = concurrent.futures.ThreadPoolExecutor(
            SYNC_THREADS_PER_BOT, thread_name_prefix=f"bot-{name}")
        self.sync_busy = 0  # sync calls in the pool, including timed-out ones still running
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.loop.run_forever, name=f"bot-{name}-loop",
                                       daemon=True)
        self.thread.start()

    def submit(self, coro) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)


@dataclass
class BotHandle:
    cls: type[Bot]
    instance: Bot
    _user: User | None = None
    _worker: BotWorker | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.cls.name

    @property
    def user(self) -> User:
        if self._user is None:
            raise RuntimeError(f"bot {self.name} has no user yet")
        return self._user

    @property
    def worker(self) -> BotWorker:
        with self.lock:
            if self._worker is None:
                self._worker = BotWorker(self.name)
            return self._worker


class Resolver:
    """`@name` and `#room` for one caller: rooms only if the caller may see them."""

    def __init__(self, caller: User):
        self.caller = caller

    def user(self, name: str) -> User | None:
        return User.objects.filter(username__iexact=name, is_active=True).first()

    def room(self, name: str) -> Room | None:
        for room in Room.objects.filter(name__iexact=name).exclude(visibility=Visibility.DIRECT):
            try:
                return access.access_room(self.caller, room.id).room
            except ChatError:
                continue
        return None


def _load(kind: str, pk: int) -> Any:
    model = User if kind == "user" else Room
    return model.objects.filter(pk=pk).first()


class Runtime:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._bots: dict[str, BotHandle] | None = None
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self._dispatcher: threading.Thread | None = None
        self._scheduler: threading.Thread | None = None
        self._db_pool = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="bots-db")
        self._dm_cache: dict[int, int] = {}  # room id -> bot user id (0: not a bot DM)
        self._pending = 0
        self._idle = threading.Condition()
        self.observers: list[Callable[[int, dict[str, Any]], None]] = []
        self.active: dict[int, tuple[concurrent.futures.Future, SyncContext]] = {}
        self.clock_offset = timedelta(0)
        self.raise_errors = False  # the test harness sets it to see handler tracebacks
        self.errors: list[BaseException] = []

    # --- bots ------------------------------------------------------------------------

    def now(self) -> datetime:
        return timezone.now() + self.clock_offset

    def bots(self) -> dict[str, BotHandle]:
        with self._lock:
            if self._bots is None:
                self.use([load_class(p) for p in settings.CHAT["BOTS"]])
            assert self._bots is not None
            return self._bots

    def use(self, classes: Iterable[type[Bot]]) -> None:
        """Replace the loaded bots (settings at start-up; the test harness)."""
        handles: dict[str, BotHandle] = {}
        for cls in classes:
            if cls.name in handles:
                raise ValueError(f"two bots named {cls.name}")
            handles[cls.name] = BotHandle(cls, cls())
        with self._lock:
            self._bots = handles
            self._dm_cache.clear()

    def sync_users(self) -> dict[str, BotHandle]:
        """Create or update each bot's User; a bot whose name a person holds is left out."""
        bots = self.bots()
        existing = {u.username.lower(): u for u in User.objects.filter(
            username__in=list(bots))}
        ready: dict[str, BotHandle] = {}
        for name, handle in bots.items():
            user = existing.get(name)
            if user is not None and not user.is_bot:
                log.error("bot %s not started: a person has the username %r", name, name)
                continue
            display = handle.cls.display_name or name.title()
            if user is None:
                user = User(username=name, display_name=display, is_bot=True)
                user.set_unusable_password()
                try:
                    user.save()
                except IntegrityError:
                    user = User.objects.get(username=name)
            elif user.display_name != display:
                User.objects.filter(id=user.id).update(display_name=display)
                user.display_name = display
            handle._user = user
            ready[name] = handle
        return ready

    def handle_for_user(self, user_id: int) -> BotHandle | None:
        for handle in self.sync_users().values():
            if handle.user.id == user_id:
                return handle
        return None

    # --- entry points ----------------------------------------------------------------

    def on_message_posted(self, message: dict[str, Any]) -> None:
        """The chat hook: called on the writer's thread after commit. Returns at once."""
        if message.get("author", {}).get("is_bot") or message.get("deleted"):
            return  # bots never trigger bots
        if (self._dm_cache.get(message["room"]) == 0
                and not ADDRESS.match(message.get("body") or "")
                and not any(h.cls.spec.listeners for h in self.bots().values())):
            return  # plain chat in a room with no bot DM and no listeners: nothing to do
        self.enqueue(lambda: self.handle_message(message))

    def enqueue(self, job: Callable[[], None]) -> None:
        """Run job on the bot dispatcher thread, off the caller's (e.g. a writer's
        on_commit hook): for in-process listeners that must write or page."""
        with self._idle:
            self._pending += 1
        self._ensure_dispatcher()
        self._queue.put(job)

    def _ensure_dispatcher(self) -> None:
        with self._lock:
            if self._dispatcher is None or not self._dispatcher.is_alive():
                self._dispatcher = threading.Thread(target=self._dispatch_loop,
                                                    name="bots-dispatch", daemon=True)
                self._dispatcher.start()

    def _dispatch_loop(self) -> None:
        while True:
            job = self._queue.get()
            try:
                job()
            except Exception as exc:
                log.exception("bot dispatch failed")
                if self.raise_errors:
                    self.errors.append(exc)
            finally:
                close_old_connections()
                self._done()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued message and every started run has finished."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def start(self) -> None:
        """Called once per server process: bot users, then the scheduler if needed."""
        self.enqueue(self._start_now)

    def _start_now(self) -> None:
        bots = self.sync_users()
        if any(h.cls.spec.schedules for h in bots.values()):
            with self._lock:
                if self._scheduler is None:
                    self._scheduler = threading.Thread(target=self._schedule_loop,
                                                       name="bots-scheduler", daemon=True)
                    self._scheduler.start()

    async def db(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run sync ORM code in the runtime's database threads."""

        def call() -> Any:
            try:
                return fn(*args)
            finally:
                close_old_connections()

        return await asyncio.get_running_loop().run_in_executor(self._db_pool, call)

    # --- routing ---------------------------------------------------------------------

    def handle_message(self, message: dict[str, Any]) -> None:
        body: str = message.get("body") or ""
        bots = self.bots()
        target: BotHandle | None = None
        text = ""
        m = ADDRESS.match(body)
        if m and m.group(1).lower() in bots:
            target, text = bots[m.group(1).lower()], m.group(2)
        listening = [h for h in bots.values() if h.cls.spec.listeners and h is not target]
        if target is None:
            dm_bot = self._dm_bot(message["room"])
            if dm_bot:
                target = next((h for h in self.sync_users().values()
                               if h.user.id == dm_bot), None)
                text = body
        if target is None and not listening:
            return
        ready = self.sync_users()
        if target is not None and target.name in ready:
            self._command(target, message, text)
        for handle in listening:
            if handle.name not in ready:
                continue
            hits = [(li, mm) for li in handle.cls.spec.listeners
                    if (mm := li.pattern.search(body))]
            if hits:
                self._listen(handle, message, hits)

    def _dm_bot(self, room_id: int) -> int:
        """The bot user of a two-person DM with a loaded bot, else 0 (cached per room)."""
        if room_id in self._dm_cache:
            return self._dm_cache[room_id]
        key = Room.objects.filter(id=room_id, visibility=Visibility.DIRECT).values_list(
            "dm_key", flat=True).first()
        found = 0
        if key:
            ids = [int(i) for i in key.split(",")]
            if len(ids) == 2:
                bot_ids = {h.user.id for h in self.sync_users().values()}
                found = next((i for i in ids if i in bot_ids), 0)
        if len(self._dm_cache) > 10_000:
            self._dm_cache.clear()
        self._dm_cache[room_id] = found
        return found

    def _claim(self, handle: BotHandle, message: dict[str, Any], caller: User | None,
               kind: str) -> Any:
        from .models import BotRun

        try:
            with write_transaction():
                return BotRun.objects.create(bot=handle.user, message_id=message["id"],
                                             room_id=message["room"], caller=caller, kind=kind,
                                             thread_id=message.get("thread_id"))
        except IntegrityError:
            return None  # another process (or a redelivery) has it

    def _command(self, handle: BotHandle, message: dict[str, Any], text: str) -> None:
        from .models import BotRun, RunStatus

        caller = User.objects.filter(id=message["author"]["id"]).first()
        room = Room.objects.filter(id=message["room"]).first()
        if caller is None or room is None:
            return
        run = self._claim(handle, message, caller, "command")
        if run is None:
            return
        thread_id = message.get("thread_id")
        ctx = SyncContext(self, handle, caller=caller, room=room, message=message,
                          run_id=run.id, thread_id=thread_id)

        def finish(status: str, **extra: Any) -> None:
            BotRun.objects.filter(id=run.id).update(status=status, finished_at=timezone.now(),
                                                    **extra)

        if not getattr(handle.cls, "everywhere", False) and not Membership.objects.filter(
                room=room, user=handle.user).exists():
            ctx.ephemeral(f"@{handle.name} is not in this room. A room admin can add it.")
            return finish(RunStatus.IGNORED, error="not in room")
        state = self.state(handle)
        if state.paused:
            ctx.ephemeral(f"@{handle.name} is paused after repeated failures; "
                          "an admin can resume it.")
            return finish(RunStatus.IGNORED, error="paused")
        if self.is_muted(handle):
            ctx.ephemeral(f"@{handle.name} is muted for flooding; try again later.")
            return finish(RunStatus.IGNORED, error="muted")
        try:
            tokens = tokenize(normalise(text))
        except UsageError as exc:
            ctx.ephemeral(str(exc))
            return finish(RunStatus.USAGE, error=str(exc))
        words = [t.text for t in tokens]
        if not tokens:
            default = getattr(handle.cls, "default_command", "")
            if not default:
                self._help(ctx, handle, [])
                return finish(RunStatus.OK, command="help")
            tokens = [Token(w, 0, False) for w in default.split()]
            words = default.split()
            text = default
        first = words[0].lower() if not tokens[0].quoted else ""
        if first in RESERVED:
            finish(RunStatus.OK, command=first)
            self._builtin(ctx, handle, first, words[1:])
            return
        cmd, n = handle.cls.find_command([t.text if not t.quoted else "\0" for t in tokens])
        if cmd is None:
            names = [c.name for c in handle.cls.spec.commands.values()]
            import difflib

            hint = difflib.get_close_matches(" ".join(words[:2]).lower(), names, n=1) or \
                difflib.get_close_matches(first, names, n=1)
            more = f" Did you mean `{hint[0]}`?" if hint else ""
            ctx.ephemeral(f"@{handle.name} has no command `{words[0]}`.{more} "
                          f"Try `@{handle.name} help`.")
            return finish(RunStatus.USAGE, error="unknown command")
        BotRun.objects.filter(id=run.id).update(command=cmd.name)
        membership = Membership.objects.filter(room=room, user=caller).first()
        try:
            inv = parse_args(cmd.grammar, normalise(text), tokens[n:], Resolver(caller))
        except UsageError as exc:
            ctx.ephemeral(f"{exc}\nUsage: `@{handle.name} {cmd.usage}`")
            self._audit(handle, caller, room, cmd.name, normalise(text).strip(), "usage_error",
                        run.id, error=str(exc))
            return finish(RunStatus.USAGE, error=str(exc))
        canonical = inv.canonical()
        reason = acl.denial(cmd, caller, room, membership, inv.args)
        if reason is not None:
            ctx.ephemeral(reason)
            self._audit(handle, caller, room, cmd.name, canonical, "denied", run.id,
                        error=reason)
            return finish(RunStatus.DENIED, canonical=canonical, error=reason)
        if acl.needs_approval(cmd, inv.args):
            expires = self.now() + timedelta(seconds=cmd.approve_expiry)
            finish(RunStatus.AWAITING, canonical=canonical, args=freeze(inv), expires_at=expires)
            BotRun.objects.filter(id=run.id).update(finished_at=None)
            self._audit(handle, caller, room, cmd.name, canonical, "awaiting_approval", run.id)
            minutes = max(1, round(cmd.approve_expiry / 60))
            self._safe_reply(ctx, f"Approval needed for request #{run.id}: "
                                  f"`@{handle.name} {canonical}` asked by @{caller.username}. "
                                  f"Someone else may answer `@{handle.name} approve {run.id}` "
                                  f"or `@{handle.name} deny {run.id}` within {minutes} min.")
            return
        BotRun.objects.filter(id=run.id).update(status=RunStatus.RUNNING, canonical=canonical)
        ctx.args = inv.args
        self._execute(handle, cmd.handler, cmd.timeout, ctx, inv.args, label=cmd.name,
                      canonical=canonical, audit_command=cmd.name)

    def _safe_reply(self, ctx: SyncContext, text: str) -> None:
        try:
            ctx.reply(text)
        except CommandError as exc:
            log.warning("bot %s could not reply: %s", ctx.handle.name, exc)

    # --- built-in words: help, approve, deny, cancel -------------------------------------

    def _builtin(self, ctx: SyncContext, handle: BotHandle, word: str, rest: list[str]) -> None:
        if word == "help":
            self._help(ctx, handle, rest)
            return
        if len(rest) != 1 or not rest[0].lstrip("#").isdigit():
            ctx.ephemeral(f"Usage: `@{handle.name} {word} <id>`")
            return
        run_id = int(rest[0].lstrip("#"))
        if word == "cancel":
            self._cancel(ctx, handle, run_id)
        else:
            self._decide(ctx, handle, run_id, approve=(word == "approve"))

    def help_lines(self, handle: BotHandle, caller: User | None, room: Room | None,
                   membership: Membership | None) -> list[str]:
        lines = []
        for cmd in sorted(handle.cls.spec.commands.values(), key=lambda c: c.name):
            if caller is not None and not acl.may_ask(cmd, caller, room, membership):
                continue
            note = ""
            if caller is not None and acl.denial(cmd, caller, room, membership, None) is not None:
                note = f" (needs {acl.describe(cmd.run)})"
            desc = f" — {cmd.description}" if cmd.description else ""
            lines.append(f"- `@{handle.name} {cmd.usage}`{desc}{note}")
        return lines

    def _help(self, ctx: SyncContext, handle: BotHandle, rest: list[str]) -> None:
        membership = Membership.objects.filter(room=ctx.room, user=ctx.caller).first()
        if rest:
            cmd, _ = handle.cls.find_command(rest)
            if cmd is None or not acl.may_ask(cmd, ctx.caller, ctx.room, membership):
                ctx.ephemeral(f"@{handle.name} has no command `{' '.join(rest)}`. "
                              f"Try `@{handle.name} help`.")
                return
            text = f"`@{handle.name} {cmd.usage}`"
            if cmd.description:
                text += f"\n{cmd.description}"
            if cmd.examples:
                text += "\nExamples:\n" + "\n".join(f"- `@{handle.name} {e}`"
                                                    for e in cmd.examples)
            reason = acl.denial(cmd, ctx.caller, ctx.room, membership, None)
            if reason:
                text += f"\n{reason}"
            if cmd.approve:
                text += "\nNeeds a second person's approval."
            ctx.ephemeral(text)
            return
        lines = [f"**@{handle.name}** — {handle.cls.description() or 'no description'}"]
        lines += self.help_lines(handle, ctx.caller, ctx.room, membership)
        lines.append(f"`@{handle.name} help <command>` shows usage and examples.")
        ctx.ephemeral("\n".join(lines))

    def _decide(self, ctx: SyncContext, handle: BotHandle, run_id: int, *, approve: bool) -> None:
        from .models import BotRun, RunStatus

        caller = ctx.caller
        room = ctx.room
        assert caller is not None and room is not None
        run = BotRun.objects.filter(id=run_id, bot=handle.user, room=room).first()
        if run is None:
            ctx.ephemeral(f"There is no request #{run_id} for @{handle.name} in this room.")
            return
        if run.status != RunStatus.AWAITING:
            ctx.ephemeral(f"Request #{run_id} is {run.get_status_display().lower()}, "
                          "not awaiting approval.")
            return
        requester = User.objects.filter(id=run.caller_id).first() if run.caller_id else None
        if run.expires_at is not None and run.expires_at <= self.now():
            if BotRun.objects.filter(id=run.id, status=RunStatus.AWAITING).update(
                    status=RunStatus.EXPIRED, finished_at=timezone.now()):
                self._audit(handle, requester, room, run.command, run.canonical, "expired", run.id)
            ctx.ephemeral(f"Request #{run_id} has expired; ask again.")
            return
        cmd, _ = handle.cls.find_command(run.command.split())
        if cmd is None or requester is None:
            BotRun.objects.filter(id=run.id).update(status=RunStatus.EXPIRED)
            ctx.ephemeral(f"Request #{run_id} can no longer run.")
            return
        if not approve and caller.id == run.caller_id:
            pass  # the requester may withdraw their own request
        elif caller.id == run.caller_id:
            ctx.ephemeral("You cannot approve your own request; ask someone else.")
            return
        else:
            membership = Membership.objects.filter(room=room, user=caller).first()
            try:
                inv = thaw(cmd.grammar, run.args, _load)
            except UsageError as exc:
                ctx.ephemeral(str(exc))
                return
            reason = acl.denial(cmd, caller, room, membership, inv.args)
            if reason is not None:
                ctx.ephemeral(f"You may not {'approve' if approve else 'deny'} this: {reason}")
                return
        if not approve:
            if BotRun.objects.filter(id=run.id, status=RunStatus.AWAITING).update(
                    status=RunStatus.REJECTED, approved_by=caller, finished_at=timezone.now()):
                self._audit(handle, requester, room, cmd.name, run.canonical, "rejected", run.id,
                            approved_by=caller.id)
                self._safe_reply(ctx, f"Request #{run.id} was denied by @{caller.username}.")
            return
        inv = thaw(cmd.grammar, run.args, _load)
        requester_membership = Membership.objects.filter(room=room, user=requester).first()
        reason = acl.denial(cmd, requester, room, requester_membership, inv.args)
        if reason is not None:
            ctx.ephemeral(f"@{requester.username} may no longer run this: {reason}")
            return
        if not BotRun.objects.filter(id=run.id, status=RunStatus.AWAITING).update(
                status=RunStatus.RUNNING, approved_by=caller):
            ctx.ephemeral(f"Request #{run_id} was already decided.")
            return
        self._safe_reply(ctx, f"Request #{run.id} approved by @{caller.username}: running "
                              f"`@{handle.name} {run.canonical}`.")
        run_ctx = SyncContext(self, handle, caller=requester, room=room, message=None,
                              run_id=run.id, thread_id=run.thread_id, args=inv.args)
        self._execute(handle, cmd.handler, cmd.timeout, run_ctx, inv.args, label=cmd.name,
                      canonical=run.canonical, audit_command=cmd.name, approved_by=caller.id)

    def _cancel(self, ctx: SyncContext, handle: BotHandle, run_id: int) -> None:
        from .models import BotRun, RunStatus

        run = BotRun.objects.filter(id=run_id, bot=handle.user, room=ctx.room).first()
        if run is None or run.status != RunStatus.RUNNING:
            ctx.ephemeral(f"There is no running job #{run_id} of @{handle.name} here.")
            return
        membership = Membership.objects.filter(room=ctx.room, user=ctx.caller).first()
        assert ctx.caller is not None
        if run.caller_id != ctx.caller.id and not access.is_room_admin(ctx.caller, membership):
            ctx.ephemeral("Only the person who started it or a room admin may cancel it.")
            return
        BotRun.objects.filter(id=run.id).update(cancel_requested=True)
        local = self.active.get(run.id)
        if local is not None:
            local[1].cancelled.set()
            local[0].cancel()
        ctx.ephemeral(f"Cancelling #{run.id}.")

    # --- listeners -------------------------------------------------------------------

    def _listen(self, handle: BotHandle, message: dict[str, Any],
                hits: list[tuple[Listener, re.Match[str]]]) -> None:
        from .models import BotRun, RunStatus

        if not Membership.objects.filter(room_id=message["room"], user=handle.user).exists():
            return
        if self.state(handle).paused or self.is_muted(handle):
            return
        caller = User.objects.filter(id=message["author"]["id"]).first()
        room = Room.objects.filter(id=message["room"]).first()
        if caller is None or room is None:
            return
        run = self._claim(handle, message, caller, "listener")
        if run is None:
            return
        BotRun.objects.filter(id=run.id).update(status=RunStatus.RUNNING,
                                                command=hits[0][0].name)
        for listener, match in hits:
            ctx = SyncContext(self, handle, caller=caller, room=room, message=message,
                              run_id=run.id, thread_id=message.get("thread_id"))
            ctx.listener_only = True
            self._execute(handle, listener.handler, listener.timeout, ctx, {"match": match},
                          label=listener.name, canonical=message.get("body", "")[:200],
                          audit_command=None)

    # --- running a handler -----------------------------------------------------------

    def _execute(self, handle: BotHandle, fn: Callable[..., Any], timeout: float,
                 ctx: SyncContext, args: dict[str, Any], *, label: str, canonical: str,
                 audit_command: str | None, approved_by: int | None = None) -> None:
        """Start the handler on the bot's worker; bookkeeping happens when it ends."""
        with self._idle:
            self._pending += 1
        worker = handle.worker
        try:
            future = worker.submit(self._run(handle, fn, timeout, ctx, args, label=label,
                                             canonical=canonical, audit_command=audit_command,
                                             approved_by=approved_by))
        except Exception:
            self._done()
            raise
        if ctx.run_id is not None:
            self.active[ctx.run_id] = (future, ctx)

    async def _run(self, handle: BotHandle, fn: Callable[..., Any], timeout: float,
                   ctx: SyncContext, args: dict[str, Any], *, label: str, canonical: str,
                   audit_command: str | None, approved_by: int | None) -> None:
        from .models import RunStatus

        status, error, answer = RunStatus.OK, "", ""
        worker = handle.worker
        try:
            if inspect.iscoroutinefunction(fn):
                async with asyncio.timeout(timeout):
                    await fn(handle.instance, Context(ctx), **args)
            else:
                with worker.lock:
                    if worker.sync_busy >= SYNC_THREADS_PER_BOT:
                        raise _Busy
                    worker.sync_busy += 1

                def call() -> None:
                    try:
                        fn(handle.instance, ctx, **args)
                    finally:
                        close_old_connections()
                        with worker.lock:
                            worker.sync_busy -= 1

                fut = asyncio.get_running_loop().run_in_executor(worker.executor, call)
                await asyncio.wait_for(fut, timeout)
        except _Busy:
            status, error = RunStatus.FAILED, "busy"
            answer = f"@{handle.name} is busy; try again in a moment."
        except TimeoutError:
            ctx.cancelled.set()
            status, error = RunStatus.TIMED_OUT, f"timed out after {timeout:g} s"
            answer = f"`{label}` timed out after {timeout:g} s (run #{ctx.run_id})."
        except asyncio.CancelledError:
            ctx.cancelled.set()
            status, error = RunStatus.CANCELLED, "cancelled"
            answer = f"`{label}` was cancelled (run #{ctx.run_id})."
        except CommandError as exc:
            status, error, answer = RunStatus.FAILED, str(exc), str(exc)
        except UsageError as exc:
            status, error = RunStatus.USAGE, str(exc)
            await self.db(ctx.ephemeral, str(exc))
        except Exception as exc:
            log.exception("bot %s: %s failed (run %s)", handle.name, label, ctx.run_id)
            status, error = RunStatus.FAILED, "".join(
                traceback.format_exception_only(type(exc), exc)).strip()[:2000]
            answer = f"`{label}` failed (run #{ctx.run_id}); the error is in the server log."
            if self.raise_errors:
                self.errors.append(exc)
        try:
            await self.db(self._finish, handle, ctx, status, error, answer, canonical,
                          audit_command, approved_by)
        finally:
            if ctx.run_id is not None:
                self.active.pop(ctx.run_id, None)
            self._done()

    def _finish(self, handle: BotHandle, ctx: SyncContext, status: str, error: str, answer: str,
                canonical: str, audit_command: str | None, approved_by: int | None) -> None:
        from .models import BotRun, RunStatus

        if answer and ctx.room is not None:
            self._safe_reply(ctx, answer)
        if ctx.run_id is not None:
            BotRun.objects.filter(id=ctx.run_id).update(status=status, error=error,
                                                        finished_at=timezone.now())
        if audit_command is not None:
            self._audit(handle, ctx.caller, ctx.room, audit_command, canonical, status,
                        ctx.run_id, error=error, approved_by=approved_by)
        crashed = status in (RunStatus.TIMED_OUT,) or (status == RunStatus.FAILED
                                                        and error != "busy"
                                                        and answer.endswith("server log."))
        self._count_failure(handle, crashed)

    def _audit(self, handle: BotHandle, caller: User | None, room: Room | None, command: str,
               canonical: str, result: str, run_id: int | None, *, error: str = "",
               approved_by: int | None = None) -> None:
        detail: dict[str, Any] = {"bot": handle.name, "bot_id": handle.user.id,
                                  "command": command, "invocation": canonical,
                                  "result": result, "run_id": run_id,
                                  "approved_by": approved_by}
        if error:
            detail["error"] = error
        audit.record(actor=caller, action="bot.command", target=f"bot:{handle.user.id}",
                     room=room, detail=detail)

    # --- health: pause after failures, mute floods -------------------------------------

    def state(self, handle: BotHandle):
        from .models import BotState

        return BotState.objects.get_or_create(bot=handle.user)[0]

    def _count_failure(self, handle: BotHandle, failed: bool) -> None:
        from django.db.models import F

        from .models import BotState

        self.state(handle)
        if not failed:
            BotState.objects.filter(bot=handle.user, consecutive_failures__gt=0).update(
                consecutive_failures=0)
            return
        BotState.objects.filter(bot=handle.user).update(
            consecutive_failures=F("consecutive_failures") + 1)
        limit = settings.CHAT["BOT_FAILURE_LIMIT"]
        if BotState.objects.filter(bot=handle.user, paused=False,
                                   consecutive_failures__gte=limit).update(paused=True):
            audit.record(actor=None, action="bot.paused", target=f"bot:{handle.user.id}",
                         detail={"bot": handle.name, "failures": limit})
            self.tell_admins(handle, f"@{handle.name} was paused after {limit} failures in a "
                                     "row. Resume it with PATCH /api/v1/bots/"
                                     f"{handle.user.id} {{\"paused\": false}}.")

    def is_muted(self, handle: BotHandle) -> bool:
        from .models import BotState

        return BotState.objects.filter(bot=handle.user, muted_until__gt=self.now()).exists()

    def count_post(self, handle: BotHandle, room_id: int) -> None:
        from chatserver.chat import ratelimit

        ratelimit.hit("botroom", f"{handle.user.id}:{room_id}", settings.CHAT["BOT_ROOM_RATE"])

    def mute(self, handle: BotHandle, room_id: int) -> None:
        from .models import BotState

        self.state(handle)
        until = self.now() + timedelta(seconds=settings.CHAT["BOT_MUTE_SECONDS"])
        if BotState.objects.filter(bot=handle.user).exclude(muted_until__gt=self.now()).update(
                muted_until=until):
            audit.record(actor=None, action="bot.muted", target=f"bot:{handle.user.id}",
                         room=Room.objects.filter(id=room_id).first(),
                         detail={"bot": handle.name, "until": iso(until)})
            self.tell_admins(handle, f"@{handle.name} flooded a room and is muted until "
                                     f"{iso(until)}.", ignore_mute=True)

    def tell_admins(self, handle: BotHandle, text: str, *, ignore_mute: bool = False) -> None:
        """DM every site admin, as the bot (the bot's send budget, not the room's)."""
        admins = User.objects.filter(role__in=[Role.OWNER, Role.ADMIN], is_active=True,
                                     is_bot=False)
        for admin in admins:
            try:
                room = actions.open_dm(actor=handle.user, user_ids=[admin.id])
                actions.post_message(actor=handle.user, room_id=room.id, body=text)
            except (ChatError, RateLimited):
                log.warning("could not tell admin %s about bot %s", admin.id, handle.name)

    # --- ephemeral answers ------------------------------------------------------------

    def ephemeral(self, handle: BotHandle, user_id: int, room_id: int, text: str,
                  thread_id: int | None = None) -> None:
        from chatserver.realtime.hub import publish_user_ephemeral

        frame = {"type": "message.ephemeral", "room": room_id, "message": {
            "id": None, "room": room_id, "author": user_brief(handle.user), "body": text,
            "html": markdown.render(text, set()), "thread_id": thread_id,
            "created_at": iso(timezone.now()), "ephemeral": True}}
        publish_user_ephemeral(user_id, frame)
        for observer in list(self.observers):
            observer(user_id, frame)

    # --- schedules -------------------------------------------------------------------

    def _schedule_loop(self) -> None:
        import time

        while True:
            try:
                self.run_due_jobs()
            except IntegrityError as exc:
                # A bot's user deleted while the tick ran (a test flushing the
                # database does this): the next tick reads the users again.
                log.warning("bot scheduler tick skipped: %s", str(exc).splitlines()[0])
            except Exception:
                log.exception("bot scheduler tick failed")
            finally:
                close_old_connections()
            time.sleep(1.0)

    def next_time(self, schedule: Schedule, after: datetime) -> datetime:
        if schedule.interval:
            return after + timedelta(seconds=schedule.interval)
        from zoneinfo import ZoneInfo

        from croniter import croniter

        assert schedule.cron
        local = after.astimezone(ZoneInfo(schedule.tz))
        return croniter(schedule.cron, local).get_next(datetime)

    def sync_schedules(self) -> None:
        from .models import ScheduledJob

        now = self.now()
        for handle in self.sync_users().values():
            for schedule in handle.cls.spec.schedules:
                ScheduledJob.objects.get_or_create(
                    bot=handle.user, handler=schedule.name,
                    defaults={"interval_seconds": schedule.interval, "cron": schedule.cron or "",
                              "tz": schedule.tz, "next_run_at": self.next_time(schedule, now)})

    def run_due_jobs(self) -> int:
        """Claim the due jobs (SKIP LOCKED on PostgreSQL: one process runs each) and start them."""
        from .models import ScheduledJob

        self.sync_schedules()
        bots = {h.user.id: h for h in self.sync_users().values()}
        now = self.now()
        claimed: list[tuple[BotHandle, Schedule]] = []
        with write_transaction():
            qs = ScheduledJob.objects.filter(next_run_at__lte=now, bot_id__in=list(bots))
            if settings.IS_POSTGRES:
                qs = qs.select_for_update(skip_locked=True)
            for job in list(qs.order_by("next_run_at")[:50]):
                handle = bots[job.bot_id]
                schedule = next((s for s in handle.cls.spec.schedules if s.name == job.handler),
                                None)
                if schedule is None:
                    continue
                job.last_run_at = now
                job.next_run_at = self.next_time(schedule, now)
                job.save(update_fields=["last_run_at", "next_run_at"])
                claimed.append((handle, schedule))
        for handle, schedule in claimed:
            self._fire(handle, schedule)
        return len(claimed)

    def _fire(self, handle: BotHandle, schedule: Schedule) -> None:
        from .models import BotRun, RunStatus

        if self.state(handle).paused:
            return
        room = None
        if schedule.room:
            room = Room.objects.filter(name__iexact=schedule.room).exclude(
                visibility=Visibility.DIRECT).first()
        if room is not None:
            try:
                access.check_writable(access.RoomAccess(room, None))
            except Forbidden as exc:
                # Read-only (archived): the firing is recorded as skipped, not run
                # to fail on every answer; the schedule goes on when it is back.
                BotRun.objects.create(bot=handle.user, room=room, kind="schedule",
                                      command=schedule.name, status=RunStatus.CANCELLED,
                                      error=exc.message, finished_at=self.now())
                return
        run = BotRun.objects.create(bot=handle.user, room=room, kind="schedule",
                                    command=schedule.name, status=RunStatus.RUNNING)
        ctx = SyncContext(self, handle, caller=None, room=room, message=None, run_id=run.id)
        self._execute(handle, schedule.handler, schedule.timeout, ctx, {}, label=schedule.name,
                      canonical=schedule.name, audit_command=None)

    # --- webhooks ---------------------------------------------------------------------

    def deliver_webhook(self, bot: str, name: str, payload: Any) -> int:
        """Run a bot's webhook receiver with `payload`; return the run id. Raises
        Forbidden when the receiver's room is archived (nothing runs)."""
        from .models import BotRun, RunStatus

        handle = self.sync_users().get(bot)
        hook = handle.cls.spec.webhooks.get(name) if handle else None
        if handle is None or hook is None:
            raise LookupError(f"no webhook {bot}/{name}")
        room = None
        if hook.room:
            room = Room.objects.filter(name__iexact=hook.room).exclude(
                visibility=Visibility.DIRECT).first()
        if room is not None:
            # The receiver answers in its room: an archived one is read-only, so say
            # so to the sender now rather than run a handler whose answers can only fail.
            access.check_writable(access.RoomAccess(room, None))
        run = BotRun.objects.create(bot=handle.user, room=room, kind="webhook",
                                    command=name, status=RunStatus.RUNNING)
        ctx = SyncContext(self, handle, caller=None, room=room, message=None, run_id=run.id)
        self._execute(handle, hook.handler, hook.timeout, ctx, {"payload": payload},
                      label=name, canonical=name, audit_command=None)
        return run.id

    def reset(self) -> None:
        """Forget cached rooms (tests flush the database between cases)."""
        with self._lock:
            self._dm_cache.clear()
            self.errors.clear()
            self.clock_offset = timedelta(0)


class _Busy(Exception):
    pass


runtime = Runtime()

__all__ = ["BotHandle", "Command", "Runtime", "runtime"]
