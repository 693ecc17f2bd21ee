"""REST doors of the bots: the bot list (web client autocomplete), enabling a
bot in a room (room admins and site admins), resuming a paused bot."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatserver.accounts.models import User
from chatserver.audit import log as audit
from chatserver.chat import access, actions
from chatserver.chat.errors import InvalidInput, NotFound
from chatserver.chat.models import Membership
from chatserver.chat.payloads import user_brief
from chatserver.events.tx import write_transaction

from .models import BotState
from .runtime import runtime


def _actor(request: Request) -> User:
    return cast(User, request.user)


def bot_dict(user: User) -> dict[str, Any]:
    handle = runtime.sync_users().get(user.username.lower())
    data = user_brief(user)
    data["description"] = handle.cls.description() if handle else ""
    data["commands"] = [
        {"name": c.name, "usage": c.usage, "description": c.description}
        for c in sorted(handle.cls.spec.commands.values(), key=lambda c: c.name)
    ] if handle else []
    state = BotState.objects.filter(bot=user).first()
    data["paused"] = bool(state and state.paused)
    return data


def _bot_user(bot_id: int) -> User:
    user = User.objects.filter(id=bot_id, is_bot=True, is_active=True).first()
    if user is None:
        raise NotFound("Bot not found.")
    return user


class BotsView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        """Every bot of this server and its commands."""
        handles = runtime.sync_users()
        return Response({"results": [bot_dict(h.user) for _, h in sorted(handles.items())],
                         "next": None})


class BotView(APIView):
    @extend_schema(request=dict, responses={200: dict})
    def patch(self, request: Request, bot_id: int) -> Response:
        """Site admins resume (or pause) a bot: {"paused": false}."""
        access.check_site_admin(_actor(request))
        user = _bot_user(bot_id)
        data = request.data
        if not isinstance(data, dict) or set(data) != {"paused"} or not isinstance(
                data["paused"], bool):
            raise InvalidInput('Send {"paused": true|false}.', fields={"paused": "invalid"})
        with write_transaction():
            BotState.objects.update_or_create(bot=user, defaults={
                "paused": data["paused"], "consecutive_failures": 0})
            audit.record(actor=_actor(request), action="bot.paused" if data["paused"]
                         else "bot.resumed", target=f"bot:{user.id}")
        return Response(bot_dict(user))


class RoomBotsView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, room_id: int) -> Response:
        """The bots enabled (members) in a room the caller can see."""
        access.access_room(_actor(request), room_id)
        bots = User.objects.filter(memberships__room_id=room_id, is_bot=True).order_by("username")
        return Response({"results": [bot_dict(u) for u in bots], "next": None})


class RoomBotView(APIView):
    def _check(self, request: Request, room_id: int, bot_id: int) -> User:
        room_access = access.access_room(_actor(request), room_id)
        access.check_manage(_actor(request), room_access)
        return _bot_user(bot_id)

    @extend_schema(request=None, responses={200: dict})
    def put(self, request: Request, room_id: int, bot_id: int) -> Response:
        """Enable a bot in the room (room admins and site admins)."""
        bot = self._check(request, room_id, bot_id)
        with write_transaction():
            added = actions.invite(actor=_actor(request), room_id=room_id, user_ids=[bot.id])
            if added:
                audit.record(actor=_actor(request), action="bot.enabled", target=f"bot:{bot.id}",
                             room=access.access_room(_actor(request), room_id).room)
        return Response({"bot": bot_dict(bot), "enabled": True})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, room_id: int, bot_id: int) -> Response:
        """Disable a bot in the room; disabling one that is not there is a no-op."""
        bot = self._check(request, room_id, bot_id)
        with write_transaction():
            if Membership.objects.filter(room_id=room_id, user=bot).exists():
                actions.remove_member(actor=_actor(request), room_id=room_id, user_id=bot.id)
                audit.record(actor=_actor(request), action="bot.disabled",
                             target=f"bot:{bot.id}",
                             room=access.access_room(_actor(request), room_id).room)
        return Response(status=204)
