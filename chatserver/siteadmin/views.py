"""REST doors of site administration (under /api/v1/admin/, plus the public
/api/v1/auth/accept-invite). Thin: parse, call the service, serialize."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatserver.api.views import _data, actor, sign_in
from chatserver.audit import log as audit
from chatserver.audit import selectors as audit_selectors
from chatserver.chat import access
from chatserver.chat.selectors import room_detail

from . import exporter, service, tokens


class AdminUsersView(APIView):
    @extend_schema(parameters=[OpenApiParameter(p, str) for p in
                               ("q", "role", "active", "bot", "cursor")],
                   responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(service.list_users(actor=actor(request), params=request.query_params))


class UserTokensView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, user_id: int) -> Response:
        """The account's API tokens (never their values)."""
        return Response({"results": tokens.list_tokens(actor=actor(request), user_id=user_id),
                         "next": None})

    @extend_schema(request=inline_serializer("NewToken", fields={
        "name": serializers.CharField()}), responses={201: dict})
    def post(self, request: Request, user_id: int) -> Response:
        """Issue a token for a bot account: the answer holds `token`, shown only now."""
        token, raw = tokens.create_token(actor=actor(request), user_id=user_id,
                                         data=_data(request))
        return Response(tokens.token_dict(token, raw=raw), status=201)


class UserTokenView(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, user_id: int, token_id: int) -> Response:
        tokens.revoke_token(actor=actor(request), user_id=user_id, token_id=token_id)
        return Response(status=204)


class InvitesView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"results": service.list_invites(actor=actor(request)), "next": None})

    @extend_schema(request=inline_serializer("NewInvite", fields={
        "role": serializers.ChoiceField(["owner", "admin", "member", "guest"], required=False),
        "expires_in_hours": serializers.IntegerField(required=False),
        "note": serializers.CharField(required=False)}), responses={201: dict})
    def post(self, request: Request) -> Response:
        invite, raw = service.create_invite(actor=actor(request), data=_data(request))
        return Response(service.invite_dict(invite, raw=raw), status=201)


class InviteView(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, invite_id: int) -> Response:
        service.revoke_invite(actor=actor(request), invite_id=invite_id)
        return Response(status=204)


class AcceptInviteView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=inline_serializer("AcceptInvite", fields={
        "token": serializers.CharField(), "username": serializers.CharField(),
        "password": serializers.CharField(),
        "display_name": serializers.CharField(required=False)}),
        responses={201: inline_serializer("AcceptInviteResult", fields={
            "token": serializers.CharField(), "user": serializers.DictField()})})
    def post(self, request: Request) -> Response:
        user = service.accept_invite(data=_data(request))
        return Response(sign_in(request, user), status=201)


class AdminRoomsView(APIView):
    @extend_schema(parameters=[OpenApiParameter(p, str) for p in
                               ("q", "visibility", "archived", "cursor")],
                   responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(service.list_rooms(actor=actor(request), params=request.query_params))


class AdminJoinView(APIView):
    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request, room_id: int) -> Response:
        service.admin_join(actor=actor(request), room_id=room_id)
        return Response(room_detail(request.user, room_id))


class AdminRoomExportView(APIView):
    @extend_schema(responses={(200, "application/x-ndjson"): str})
    def get(self, request: Request, room_id: int) -> StreamingHttpResponse:
        """The room as JSON lines (the export_data format). Site admins only, audited."""
        user = actor(request)
        room = access.admin_room(user, room_id)
        audit.record(actor=user, action="admin.room_exported", target=f"room:{room.id}",
                     room=room)
        resp = StreamingHttpResponse(exporter.export_lines(room_ids=[room.id]),
                                     content_type="application/x-ndjson")
        resp["Content-Disposition"] = f'attachment; filename="room-{room.id}.jsonl"'
        return resp


class SiteSettingsView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        access.check_site_admin(actor(request))
        return Response(service.settings_dict())

    @extend_schema(request=inline_serializer("SiteSettings", fields={
        "retention_days": serializers.IntegerField(allow_null=True)}), responses={200: dict})
    def patch(self, request: Request) -> Response:
        return Response(service.update_settings(actor=actor(request), changes=_data(request)))


# ?format=json streams one JSON array of audit entries.
AUDIT_EXPORT_JSON = inline_serializer("AuditExportEntry", many=True, fields={
    "id": serializers.IntegerField(),
    "at": serializers.DateTimeField(),
    "actor": serializers.IntegerField(allow_null=True),
    "actor_username": serializers.CharField(allow_null=True),
    "action": serializers.CharField(),
    "target": serializers.CharField(),
    "room": serializers.IntegerField(allow_null=True),
    "ip": serializers.CharField(allow_null=True),
    "detail": serializers.DictField(),
})


class AuditExportView(APIView):
    def perform_content_negotiation(self, request, force=False):
        """?format= picks the export format here, not a DRF renderer (which would 404)."""
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(parameters=[OpenApiParameter(p, str) for p in
                               ("format", "actor", "action", "room", "since", "until", "q")],
                   responses={(200, "text/csv"): str, (200, "application/json"): AUDIT_EXPORT_JSON})
    def get(self, request: Request) -> StreamingHttpResponse:
        content_type, chunks = audit_selectors.export_lines(actor=actor(request),
                                                            params=request.query_params)
        resp = StreamingHttpResponse(chunks, content_type=content_type)
        ext = "csv" if content_type.startswith("text/csv") else "json"
        resp["Content-Disposition"] = f'attachment; filename="audit.{ext}"'
        return resp
