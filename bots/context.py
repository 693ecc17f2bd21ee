"""What a handler gets as `ctx`: replies, sends, DMs, progress, storage.

Every write goes through chatserver.chat.actions with the bot user as actor,
after checking that the CALLER may post in (or read) the target room: the bot
acts on behalf of the person who asked, never with more power than theirs.

The methods exist twice: `Context` (async, for `async def` handlers; the
database work runs in the runtime's database threads) and `SyncContext`
(plain calls, for sync handlers that already run in a worker thread).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings

from chatserver.chat import access, actions
from chatserver.chat.errors import ChatError, NotFound, RateLimited
from chatserver.chat.ids import is_id
from chatserver.chat.models import Message, Room

from .sdk import CommandError

if TYPE_CHECKING:
    from .runtime import BotHandle, Runtime

MAX_VALUE_BYTES = 64 * 1024


class Store:
    """Per-bot key-value storage in the database; values are JSON.

    `scope` separates namespaces (`ctx.store.scoped(f"room:{id}")`).
    """

    def __init__(self, bot_id: int, scope: str = ""):
        self.bot_id = bot_id
        self.scope = scope

    def scoped(self, scope: str) -> Store:
        return Store(self.bot_id, scope)

    def get(self, key: str, default: Any = None) -> Any:
        from .models import BotValue

        row = BotValue.objects.filter(bot_id=self.bot_id, scope=self.scope, key=key).first()
        return default if row is None else row.value

    def set(self, key: str, value: Any) -> None:
        from .models import BotValue

        _check_size(value)
        BotValue.objects.update_or_create(bot_id=self.bot_id, scope=self.scope, key=key,
                                          defaults={"value": value})

    def delete(self, key: str) -> bool:
        from .models import BotValue

        deleted, _ = BotValue.objects.filter(bot_id=self.bot_id, scope=self.scope,
                                             key=key).delete()
        return bool(deleted)

    def update(self, key: str, fn: Callable[[Any], Any], default: Any = None) -> Any:
        """Atomically replace the value with fn(old); return the new value."""
        from chatserver.events.tx import write_transaction

        from .models import BotValue

        with write_transaction():
            row, _ = BotValue.objects.select_for_update().get_or_create(
                bot_id=self.bot_id, scope=self.scope, key=key, defaults={"value": default})
            row.value = fn(row.value)
            _check_size(row.value)
            row.save(update_fields=["value", "updated_at"])
            return row.value

    def keys(self) -> list[str]:
        from .models import BotValue

        return list(BotValue.objects.filter(bot_id=self.bot_id, scope=self.scope)
                    .order_by("key").values_list("key", flat=True))


def _check_size(value: Any) -> None:
    import json

    if len(json.dumps(value)) > MAX_VALUE_BYTES:
        raise CommandError("That value is too large to store.")


class SyncContext:
    """The handler's view of its invocation (sync flavour)."""

    listener_only = False

    def __init__(self, runtime: Runtime, handle: BotHandle, *, caller, room: Room | None,
                 message: dict[str, Any] | None, run_id: int | None,
                 thread_id: int | None = None, args: dict[str, Any] | None = None):
        self.runtime = runtime
        self.handle = handle
        self.bot_user = handle.user
        self.caller = caller
        self.room = room
        self.message = message
        self.run_id = run_id
        self.thread_id = thread_id  # replies go to this thread when set
        self.args = args or {}
        self.cancelled = threading.Event()  # set on timeout or cancel: sync code should stop
        self.store = Store(handle.user.id)

    @property
    def tz(self) -> str:
        """The caller's time zone (their profile's, else the site's TIME_ZONE): read
        and show times of day in it. Schedules and webhooks have no caller: the site's."""
        return self.caller.zone if self.caller is not None else settings.TIME_ZONE

    # --- checks ------------------------------------------------------------------------

    def _room_for_caller(self, room: Room | int | str) -> Room:
        """Resolve a room the caller (if any) may post in, and the bot too."""
        if isinstance(room, str):
            found = Room.objects.filter(name__iexact=room.lstrip("#")).exclude(
                visibility="direct").first()
            if found is None:
                raise CommandError(f"There is no room #{room.lstrip('#')} you can post in.")
            room = found
        room_id = room.id if isinstance(room, Room) else int(room)
        if self.caller is not None:
            try:
                room_access = access.access_room(self.caller, room_id)
                access.check_post(self.caller, room_access)
            except ChatError:
                raise CommandError("You cannot post in that room, so the bot will not "
                                   "either.") from None
            return room_access.room
        found = Room.objects.filter(id=room_id).first()
        if found is None:
            raise CommandError("That room does not exist.")
        return found

    def _post(self, room_id: int, text: str, thread_id: int | None = None) -> dict[str, Any]:
        if self.runtime.is_muted(self.handle):
            raise CommandError("This bot is muted for flooding.")
        try:
            self.runtime.count_post(self.handle, room_id)
            return actions.post_message(actor=self.bot_user, room_id=room_id, body=text[:10_000],
                                        thread_id=thread_id).message
        except RateLimited:
            self.runtime.mute(self.handle, room_id)
            raise CommandError("This bot is muted for flooding.") from None
        except ChatError as exc:
            raise CommandError(f"The bot could not post: {exc.message}") from None

    # --- writing -------------------------------------------------------------------------

    def reply(self, text: str) -> dict[str, Any]:
        """Answer where the command was given (in its thread, if it was in one)."""
        if self.room is None:
            raise CommandError("This handler has no room to reply in.")
        return self._post(self.room.id, text, self.thread_id)

    def thread(self, text: str) -> dict[str, Any]:
        """Answer in a thread under the invoking message (starting one if needed)."""
        if self.room is None:
            raise CommandError("This handler has no room to reply in.")
        root = self.thread_id or (self.message or {}).get("id")
        return self._post(self.room.id, text, root)

    def send(self, room: Room | int | str, text: str) -> dict[str, Any]:
        self._writes_allowed()
        target = self._room_for_caller(room)
        return self._post(target.id, text)

    def dm(self, user, text: str) -> dict[str, Any]:
        """Message one person directly, in the bot's DM with them."""
        self._writes_allowed()
        user_id = user if isinstance(user, int) else user.id
        if self.caller is not None and self.caller.id != user_id:
            try:  # the caller must be allowed to DM that person themselves
                _check_may_dm(self.caller, user_id)
            except ChatError:
                raise CommandError("You cannot message that person, so the bot will not "
                                   "either.") from None
        try:
            room = actions.open_dm(actor=self.bot_user, user_ids=[user_id])
        except ChatError as exc:
            raise CommandError(f"The bot could not open a DM: {exc.message}") from None
        return self._post(room.id, text)

    def edit(self, message_id: int, text: str) -> dict[str, Any]:
        """Edit one of this bot's messages in place (progress, live status)."""
        try:
            return actions.edit_message(actor=self.bot_user, message_id=message_id, body=text)
        except ChatError as exc:
            raise CommandError(f"The bot could not edit: {exc.message}") from None

    def pin(self, message_id: int) -> dict[str, Any]:
        """Pin a message to its room (a no-op when pinned already); return the message.

        The bot must be allowed to pin there, and so must the caller, if any."""
        self._writes_allowed()
        room_id = self._pin_room(message_id)
        try:
            return actions.pin_message(actor=self.bot_user, room_id=room_id,
                                       message_id=message_id).message
        except ChatError as exc:
            raise CommandError(f"The bot could not pin: {exc.message}") from None

    def unpin(self, message_id: int) -> dict[str, Any]:
        """Unpin a pinned message; return the message. Same rules as pin."""
        self._writes_allowed()
        room_id = self._pin_room(message_id)
        try:
            return actions.unpin_message(actor=self.bot_user, room_id=room_id,
                                         message_id=message_id)
        except ChatError as exc:
            raise CommandError(f"The bot could not unpin: {exc.message}") from None

    def _pin_room(self, message_id: int) -> int:
        """The room of a message the caller (if any) may pin in; a message the caller
        cannot see gets the same answer as one that does not exist."""
        room_id = Message.objects.filter(id=message_id, deleted=False).values_list(
            "room_id", flat=True).first() if is_id(message_id) else None
        if self.caller is None:
            if room_id is None:
                raise CommandError("That message does not exist.")
            return room_id
        try:
            if room_id is None:
                raise NotFound("Message not found.")
            _, room_access = access.access_room_message(self.caller, room_id, message_id)
            access.check_pin(self.caller, room_access)
        except ChatError:
            raise CommandError("You cannot pin or unpin that message, so the bot will "
                               "not either.") from None
        return room_id

    def ephemeral(self, text: str) -> None:
        """Show text to the caller only (never stored)."""
        if self.caller is not None and self.room is not None:
            self.runtime.ephemeral(self.handle, self.caller.id, self.room.id, text,
                                   self.thread_id)

    def search(self, q: str, *, sort: str = "relevance", cursor: str | None = None,
               limit: int = 20):
        """Search the history as the caller (only rooms the caller may read today;
        with no caller, e.g. a schedule, as the bot). Same query syntax and result
        shape as GET /api/v1/search; returns a SearchPage (results, next, hints).
        Bad syntax raises CommandError with the reason."""
        from chatserver.search import search_messages

        try:
            return search_messages(self.caller or self.bot_user, q, sort=sort, cursor=cursor,
                                   limit=limit)
        except ChatError as exc:
            raise CommandError(exc.message) from None

    def progress(self, text: str) -> SyncProgress:
        """Post a message to edit in place as the work goes on."""
        self._writes_allowed()
        return SyncProgress(self, self.reply(text))

    def check_cancelled(self) -> bool:
        """True once the run timed out or was cancelled (also checks other processes)."""
        if not self.cancelled.is_set() and self.run_id is not None:
            from .models import BotRun

            if BotRun.objects.filter(id=self.run_id, cancel_requested=True).exists():
                self.cancelled.set()
        return self.cancelled.is_set()

    def _writes_allowed(self) -> None:
        if self.listener_only:
            raise CommandError("Listeners may only reply.")


def _check_may_dm(caller, user_id: int) -> None:
    """The open_dm rule without opening one: guests only reach people in their rooms."""
    from chatserver.accounts.models import Role, User
    from chatserver.chat.errors import Forbidden
    from chatserver.chat.models import Membership

    if not User.objects.filter(id=user_id, is_active=True).exists():
        raise NotFound("Unknown user.")
    if caller.role == Role.GUEST and not Membership.objects.filter(
            user_id=user_id, room__memberships__user_id=caller.id).exists():
        raise Forbidden("Guests may only message people in their rooms.")


class SyncProgress:
    def __init__(self, ctx: SyncContext, message: dict[str, Any]):
        self.ctx = ctx
        self.message = message

    def update(self, text: str) -> None:
        if self.ctx.check_cancelled():
            raise CommandError("Cancelled.")
        self.message = self.ctx.edit(self.message["id"], text)

    def done(self, text: str) -> None:
        self.message = self.ctx.edit(self.message["id"], text)


class Context:
    """The async flavour: same methods, awaited; database work off the loop."""

    listener_only = False

    def __init__(self, sync: SyncContext):
        self._sync = sync
        self.caller = sync.caller
        self.room = sync.room
        self.message = sync.message
        self.run_id = sync.run_id
        self.thread_id = sync.thread_id
        self.args = sync.args
        self.cancelled = sync.cancelled
        self.bot_user = sync.bot_user
        self.tz = sync.tz

    async def _db(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._sync.runtime.db(fn, *args)

    async def reply(self, text: str) -> dict[str, Any]:
        return await self._db(self._sync.reply, text)

    async def thread(self, text: str) -> dict[str, Any]:
        return await self._db(self._sync.thread, text)

    async def send(self, room: Room | int | str, text: str) -> dict[str, Any]:
        return await self._db(self._sync.send, room, text)

    async def dm(self, user, text: str) -> dict[str, Any]:
        return await self._db(self._sync.dm, user, text)

    async def edit(self, message_id: int, text: str) -> dict[str, Any]:
        return await self._db(self._sync.edit, message_id, text)

    async def pin(self, message_id: int) -> dict[str, Any]:
        return await self._db(self._sync.pin, message_id)

    async def unpin(self, message_id: int) -> dict[str, Any]:
        return await self._db(self._sync.unpin, message_id)

    async def ephemeral(self, text: str) -> None:
        await self._db(self._sync.ephemeral, text)

    async def search(self, q: str, *, sort: str = "relevance", cursor: str | None = None,
                     limit: int = 20):
        return await self._db(lambda: self._sync.search(q, sort=sort, cursor=cursor,
                                                        limit=limit))

    async def progress(self, text: str) -> Progress:
        message = await self._db(self._sync.progress, text)
        return Progress(self, message.message)

    @property
    def store(self) -> AsyncStore:
        return AsyncStore(self, self._sync.store)


class AsyncStore:
    def __init__(self, ctx: Context, store: Store):
        self._ctx = ctx
        self._store = store

    def scoped(self, scope: str) -> AsyncStore:
        return AsyncStore(self._ctx, self._store.scoped(scope))

    async def get(self, key: str, default: Any = None) -> Any:
        return await self._ctx._db(self._store.get, key, default)

    async def set(self, key: str, value: Any) -> None:
        await self._ctx._db(self._store.set, key, value)

    async def delete(self, key: str) -> bool:
        return await self._ctx._db(self._store.delete, key)

    async def update(self, key: str, fn: Callable[[Any], Any], default: Any = None) -> Any:
        return await self._ctx._db(self._store.update, key, fn, default)

    async def keys(self) -> list[str]:
        return await self._ctx._db(self._store.keys)


class Progress:
    def __init__(self, ctx: Context, message: dict[str, Any]):
        self.ctx = ctx
        self.message = message

    async def update(self, text: str) -> None:
        if await self.ctx._db(self.ctx._sync.check_cancelled):
            raise asyncio.CancelledError
        self.message = await self.ctx.edit(self.message["id"], text)

    async def done(self, text: str) -> None:
        self.message = await self.ctx.edit(self.message["id"], text)
