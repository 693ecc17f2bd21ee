"""REST views: parse, call one action or selector, serialize. Nothing else."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.middleware.csrf import get_token
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatserver.accounts import admin_actions
from chatserver.accounts.models import ApiToken, User
from chatserver.audit import selectors as audit_selectors
from chatserver.audit.context import ip_of
from chatserver.chat import actions, ratelimit, selectors
from chatserver.chat.errors import InvalidInput
from chatserver.chat.payloads import user_full
from chatserver.realtime.hub import hub
from chatserver.realtime.writer import post_queue
from chatserver.search import search_messages
from chatserver.siteadmin import lockout


def _data(request: Request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return data


def actor(request: Request) -> User:
    """The signed-in caller (the default permission class guarantees one)."""
    return cast(User, request.user)


def _presence(user_id: int) -> str:
    return "online" if hub.is_online(user_id) else "offline"


Obj = inline_serializer("Object", fields={"id": serializers.IntegerField()})


LOGIN_TOKEN_KEY = "login_token_id"  # noqa: S105 (a session key name)


class LoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=inline_serializer("Login", fields={
            "username": serializers.CharField(), "password": serializers.CharField()}),
        responses={200: inline_serializer("LoginResult", fields={
            "token": serializers.CharField(), "user": serializers.DictField()})},
    )
    def post(self, request: Request) -> Response:
        data = _data(request)
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidInput("username and password are required.",
                               fields={"username": "required", "password": "required"})
        ratelimit.hit("login", username.lower()[:150], settings.CHAT["LOGIN_RATE"])
        ip = ip_of(request._request)
        lockout.check(username, ip)
        user = authenticate(request._request, username=username, password=password)
        if user is None or getattr(user, "is_bot", False):
            lockout.failed(username, ip)
            return Response(
                {"error": {"code": "bad_credentials",
                           "message": "Wrong username or password.", "fields": {}}},
                status=401,
            )
        lockout.succeeded(username)
        return Response(sign_in(request, user))


def sign_in(request: Request, user: User) -> dict[str, Any]:
    """Start a session and issue the token that goes with it (login, accepted invites)."""
    login(request._request, user)
    token, raw = ApiToken.issue(user, name="login")
    # Logging out of this session also revokes the token issued with it.
    request._request.session[LOGIN_TOKEN_KEY] = token.id
    get_token(request._request)  # sets the csrftoken cookie for the browser
    return {"token": raw, "user": user_full(user, "online")}


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, str):
            admin_actions.revoke_token(raw=request.auth)
        else:
            admin_actions.revoke_token(
                token_id=request._request.session.get(LOGIN_TOKEN_KEY),
                user_id=request.user.id)
        logout(request._request)
        return Response(status=204)


class MeView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(user_full(request.user, _presence(actor(request).id)))

    @extend_schema(request=inline_serializer("MyProfile", fields={
        "display_name": serializers.CharField(required=False),
        "timezone": serializers.CharField(required=False, allow_blank=True,
                                          allow_null=True)}),
        responses={200: dict})
    def patch(self, request: Request) -> Response:
        me = actor(request)
        user = admin_actions.update_user(actor=me, user_id=me.id, changes=_data(request))
        return Response(user_full(user, _presence(user.id)))


class UsersView(APIView):
    @extend_schema(parameters=[OpenApiParameter("q", str)], responses={200: dict})
    def get(self, request: Request) -> Response:
        q = request.query_params.get("q", "")[:100]
        return Response({"results": selectors.directory(request.user, q, presence=_presence),
                         "next": None})

    @extend_schema(
        request=inline_serializer("NewUser", fields={
            "username": serializers.CharField(), "password": serializers.CharField(),
            "display_name": serializers.CharField(required=False),
            "role": serializers.CharField(required=False),
            "is_bot": serializers.BooleanField(required=False)}),
        responses={201: dict},
    )
    def post(self, request: Request) -> Response:
        user = admin_actions.create_user(actor=actor(request), data=_data(request))
        return Response(user_full(user, "offline"), status=201)


class UserView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, user_id: int) -> Response:
        return Response(admin_actions.user_detail(actor=actor(request), user_id=user_id,
                                                  presence=_presence))

    @extend_schema(request=dict, responses={200: dict})
    def patch(self, request: Request, user_id: int) -> Response:
        user = admin_actions.update_user(actor=actor(request), user_id=user_id,
                                         changes=_data(request))
        return Response(user_full(user, _presence(user.id)))


class RoomsView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"results": selectors.list_rooms(request.user), "next": None})

    @extend_schema(
        request=inline_serializer("NewRoom", fields={
            "name": serializers.CharField(), "topic": serializers.CharField(required=False),
            "visibility": serializers.ChoiceField(["public", "private"], required=False)}),
        responses={201: dict},
    )
    def post(self, request: Request) -> Response:
        data = _data(request)
        room = actions.create_room(actor=actor(request), name=data.get("name"),
                                   topic=data.get("topic", ""),
                                   visibility=data.get("visibility", "public"))
        return Response(selectors.room_detail(request.user, room.id), status=201)


class RoomView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, room_id: int) -> Response:
        return Response(selectors.room_detail(request.user, room_id))

    @extend_schema(request=dict, responses={200: dict})
    def patch(self, request: Request, room_id: int) -> Response:
        actions.update_room(actor=actor(request), room_id=room_id, changes=_data(request))
        return Response(selectors.room_detail(request.user, room_id))


class JoinView(APIView):
    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request, room_id: int) -> Response:
        actions.join_room(actor=actor(request), room_id=room_id)
        return Response(selectors.room_detail(request.user, room_id))


class LeaveView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, room_id: int) -> Response:
        actions.leave_room(actor=actor(request), room_id=room_id)
        return Response(status=204)


class MembersView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, room_id: int) -> Response:
        return Response({"results": selectors.room_members(request.user, room_id), "next": None})

    @extend_schema(request=inline_serializer("Invite", fields={
        "user_id": serializers.IntegerField(required=False),
        "user_ids": serializers.ListField(child=serializers.IntegerField(), required=False)}),
        responses={200: dict})
    def post(self, request: Request, room_id: int) -> Response:
        data = _data(request)
        ids = data.get("user_ids")
        if ids is None and "user_id" in data:
            ids = [data["user_id"]]
        added = actions.invite(actor=actor(request), room_id=room_id,
                               user_ids=ids if isinstance(ids, list) else [])
        return Response({"added": added})


class MemberView(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, room_id: int, user_id: int) -> Response:
        actions.remove_member(actor=actor(request), room_id=room_id, user_id=user_id)
        return Response(status=204)

    @extend_schema(request=inline_serializer("MemberRole", fields={
        "role": serializers.ChoiceField(["admin", "member"])}), responses={204: None})
    def patch(self, request: Request, room_id: int, user_id: int) -> Response:
        actions.set_member_role(actor=actor(request), room_id=room_id, user_id=user_id,
                                role=_data(request).get("role"))
        return Response(status=204)


class DirectView(APIView):
    @extend_schema(request=inline_serializer("OpenDM", fields={
        "user_ids": serializers.ListField(child=serializers.IntegerField())}),
        responses={200: dict})
    def post(self, request: Request) -> Response:
        room = actions.open_dm(actor=actor(request), user_ids=_data(request).get("user_ids"))
        return Response(selectors.room_detail(request.user, room.id))


class MessagesView(APIView):
    @extend_schema(parameters=[OpenApiParameter(p, int) for p in
                               ("limit", "before", "after", "around")],
                   responses={200: dict})
    def get(self, request: Request, room_id: int) -> Response:
        p = request.query_params
        return Response(selectors.room_messages(
            request.user, room_id, limit=p.get("limit"), before=p.get("before"),
            after=p.get("after"), around=p.get("around")))

    @extend_schema(request=inline_serializer("NewMessage", fields={
        "body": serializers.CharField(), "client_msg_id": serializers.CharField(required=False),
        "thread_id": serializers.IntegerField(required=False)}),
        responses={201: dict, 200: dict})
    def post(self, request: Request, room_id: int) -> Response:
        data = _data(request)
        # Joins the sockets' group commit when a server loop runs (realtime/writer.py).
        result = post_queue.post_from_thread(actions.PostRequest(
            actor=actor(request), room_id=room_id, body=data.get("body"),
            client_msg_id=data.get("client_msg_id"), thread_id=data.get("thread_id")))
        return Response(result.message, status=201 if result.created else 200)


class MessageView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, message_id: int) -> Response:
        return Response(selectors.message_detail(request.user, message_id))

    @extend_schema(request=inline_serializer("EditMessage", fields={
        "body": serializers.CharField()}), responses={200: dict})
    def patch(self, request: Request, message_id: int) -> Response:
        return Response(actions.edit_message(actor=actor(request), message_id=message_id,
                                             body=_data(request).get("body")))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, message_id: int) -> Response:
        actions.delete_message(actor=actor(request), message_id=message_id)
        return Response(status=204)


class RepliesView(APIView):
    @extend_schema(parameters=[OpenApiParameter("limit", int), OpenApiParameter("after", int)],
                   responses={200: dict})
    def get(self, request: Request, message_id: int) -> Response:
        p = request.query_params
        return Response(selectors.thread_replies(request.user, message_id,
                                                 limit=p.get("limit"), after=p.get("after")))


class ReactionsView(APIView):
    @extend_schema(request=inline_serializer("NewReaction", fields={
        "emoji": serializers.CharField()}), responses={201: dict, 200: dict})
    def post(self, request: Request, message_id: int) -> Response:
        created = actions.add_reaction(actor=actor(request), message_id=message_id,
                                       emoji=_data(request).get("emoji"))
        return Response(selectors.message_detail(request.user, message_id),
                        status=201 if created else 200)


class ReactionView(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, message_id: int, emoji: str) -> Response:
        actions.remove_reaction(actor=actor(request), message_id=message_id, emoji=emoji)
        return Response(status=204)


class PinsView(APIView):
    @extend_schema(summary="The room's pinned messages, the most recently pinned first",
                   responses={200: dict})
    def get(self, request: Request, room_id: int) -> Response:
        return Response(selectors.room_pins(request.user, room_id))


class PinView(APIView):
    @extend_schema(summary="Pin a message of the room (again: 200, unchanged)", request=None,
                   responses={201: dict, 200: dict})
    def post(self, request: Request, room_id: int, message_id: int) -> Response:
        result = actions.pin_message(actor=actor(request), room_id=room_id,
                                     message_id=message_id)
        return Response(result.message, status=201 if result.created else 200)

    @extend_schema(summary="Unpin a message of the room", request=None, responses={204: None})
    def delete(self, request: Request, room_id: int, message_id: int) -> Response:
        actions.unpin_message(actor=actor(request), room_id=room_id, message_id=message_id)
        return Response(status=204)


class ReadView(APIView):
    @extend_schema(request=inline_serializer("ReadMarker", fields={
        "seq": serializers.IntegerField()}), responses={200: dict})
    def post(self, request: Request, room_id: int) -> Response:
        seq = actions.mark_read(actor=actor(request), room_id=room_id,
                                seq=_data(request).get("seq"))
        return Response({"room": room_id, "seq": seq})


class AuditView(APIView):
    @extend_schema(parameters=[OpenApiParameter(p, str) for p in
                               ("actor", "action", "room", "since", "until", "q", "cursor")],
                   responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(audit_selectors.audit_page(actor=actor(request),
                                                 params=request.query_params))




class SearchView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True,
                                     description="Words and operators; see docs/api.md"),
                    OpenApiParameter("sort", str, enum=["relevance", "recent"]),
                    OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
        responses={200: inline_serializer("SearchPage", fields={
            "results": serializers.ListField(child=inline_serializer("SearchResult", fields={
                "message": serializers.DictField(), "room": serializers.DictField(),
                "highlight": serializers.CharField(), "link": serializers.CharField()})),
            "next": serializers.CharField(allow_null=True),
            "hints": serializers.ListField(child=serializers.CharField())})},
    )
    def get(self, request: Request) -> Response:
        p = request.query_params
        page = search_messages(request.user, p.get("q"), sort=p.get("sort"),
                               cursor=p.get("cursor"), limit=p.get("limit"))
        return Response(page.as_dict())
