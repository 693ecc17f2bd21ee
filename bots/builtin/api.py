"""The small admin REST API of the built-in bots' data (site admins only, audited).

    /api/v1/admin/bots/rotations[/<id>]          on-call rotations (+ members)
    /api/v1/admin/bots/runbook-actions[/<id>]    allow-listed runbook actions
    /api/v1/admin/bots/status-endpoints[/<id>]   endpoints the status bot checks
    /api/v1/admin/bots/hook-tokens[/<id>]        credentials of /hooks/bot/<bot>/<name>

List/create with GET/POST on the collection; GET/PATCH/DELETE on an item.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.db import models
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatserver.accounts.models import User
from chatserver.accounts.timezones import is_zone
from chatserver.api.views import _data, actor
from chatserver.audit import log as audit
from chatserver.chat import access
from chatserver.chat.errors import NotFound
from chatserver.chat.models import Room, Visibility
from chatserver.events.tx import write_transaction
from chatserver.integrations import netguard

from . import oncall_service, runbook_exec
from .models import BotHookToken, Rotation, RotationMember, RunbookAction, StatusEndpoint


def _room(value: int | None) -> Room | None:
    if value is None:
        return None
    room = Room.objects.filter(id=value).exclude(visibility=Visibility.DIRECT).first()
    if room is None:
        raise serializers.ValidationError("No such room.")
    return room


class RoomField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> Room | None:  # type: ignore[override]
        return None if data is None else _room(super().to_internal_value(data))

    def to_representation(self, value: Any) -> int | None:  # type: ignore[override]
        return None if value is None else value.id


class RotationSerializer(serializers.ModelSerializer):
    room = RoomField(allow_null=True, required=False)
    members = serializers.ListField(child=serializers.IntegerField(), required=False,
                                    write_only=True,
                                    max_length=100)
    on_call = serializers.SerializerMethodField()

    class Meta:
        model = Rotation
        fields = ["id", "name", "period", "handoff", "tz", "starts_on", "escalate_minutes",
                  "room", "members", "on_call", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_tz(self, value: str) -> str:
        if not is_zone(value):
            raise serializers.ValidationError(f"Unknown time zone {value!r}.")
        return value

    def validate_members(self, value: list[int]) -> list[int]:
        found = set(User.objects.filter(id__in=value, is_active=True, is_bot=False)
                    .values_list("id", flat=True))
        missing = [v for v in value if v not in found]
        if missing:
            raise serializers.ValidationError(f"Unknown people: {missing}.")
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Each person once.")
        return value

    def to_representation(self, instance: Rotation) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["members"] = [{"id": m.user_id, "username": m.user.username}
                           for m in instance.members.select_related("user")]
        return data

    def get_on_call(self, instance: Rotation) -> dict[str, Any] | None:
        shift = oncall_service.on_call(instance)
        return None if shift is None else {"id": shift.user.id, "username": shift.user.username,
                                           "until": shift.ends.isoformat(),
                                           "override": shift.override}

    def save(self, **kwargs: Any) -> Rotation:
        members = self.validated_data.pop("members", None)
        rotation: Rotation = super().save(**kwargs)
        if members is not None:
            rotation.members.all().delete()
            RotationMember.objects.bulk_create(
                RotationMember(rotation=rotation, user_id=uid, position=i)
                for i, uid in enumerate(members))
        return rotation


class RunbookActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunbookAction
        fields = ["id", "name", "description", "argv", "params", "cwd", "env",
                  "timeout_seconds", "run_policy", "needs_approval", "enabled", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        probe = RunbookAction(**{f: getattr(self.instance, f) for f in
                                 ("argv", "params", "cwd", "env", "timeout_seconds",
                                  "run_policy")} if self.instance else {})
        for key, value in attrs.items():
            setattr(probe, key, value)
        for key, default in (("argv", None), ("params", {}), ("env", {}), ("cwd", ""),
                             ("timeout_seconds", 60), ("run_policy", [])):
            if getattr(probe, key, None) is None:
                setattr(probe, key, default)
        try:
            runbook_exec.check_action(probe)
        except (ValueError, TypeError) as exc:
            raise serializers.ValidationError({_runbook_field(str(exc)): str(exc)}) from None
        return attrs


def _runbook_field(reason: str) -> str:
    """The field a check_action reason is about, so a client shows it next to that field."""
    for prefix, field in (("param", "params"),
                          ("env", "env"), ("cwd", "cwd"), ("timeout_seconds", "timeout_seconds"),
                          ("run_policy", "run_policy"), ("argv", "argv"),
                          ("the program", "argv")):
        if reason.startswith(prefix):
            return field
    return "run_policy"  # the principal grammar's own messages


class StatusEndpointSerializer(serializers.ModelSerializer):
    room = RoomField(allow_null=True, required=False)
    url = serializers.CharField(max_length=2000)
    timeout_seconds = serializers.FloatField(min_value=0.1, max_value=30, required=False)

    class Meta:
        model = StatusEndpoint
        fields = ["id", "name", "url", "expected_status", "timeout_seconds", "room",
                  "failures_before_down", "enabled", "up", "failures", "last_status",
                  "last_latency_ms", "last_error", "last_checked_at"]
        read_only_fields = ["id", "up", "failures", "last_status", "last_latency_ms",
                            "last_error", "last_checked_at"]

    def validate_url(self, value: str) -> str:
        try:
            return netguard.check_url_shape(value)
        except netguard.Refused as exc:
            raise serializers.ValidationError(str(exc)) from None


class HookTokenSerializer(serializers.ModelSerializer):
    bot = serializers.CharField(source="bot_name")

    class Meta:
        model = BotHookToken
        fields = ["id", "bot", "token_hint", "created_at"]
        read_only_fields = ["id", "token_hint", "created_at"]

    def validate_bot(self, value: str) -> str:
        from bots.runtime import runtime

        handle = runtime.sync_users().get(value.lower())
        if handle is None:
            raise serializers.ValidationError(f"No loaded bot {value!r}.")
        return value.lower()


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class _Resource:
    model: ClassVar[type[models.Model]]
    serializer: ClassVar[type[serializers.ModelSerializer]]
    kind: ClassVar[str]

    def _get(self, request: Request, item_id: int) -> models.Model:
        access.check_site_admin(actor(request))
        obj = self.model._default_manager.filter(id=item_id).first()
        if obj is None:
            raise NotFound("Not found.")
        return obj

    def _audit(self, request: Request, verb: str, obj: models.Model, detail: dict) -> None:
        audit.record(actor=actor(request), action=f"bots.{self.kind}.{verb}",
                     target=f"{self.kind}:{obj.pk}", detail=detail)


class _Collection(_Resource, APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        access.check_site_admin(actor(request))
        items = self.model._default_manager.order_by("id")[:500]
        return Response({"results": [self.serializer(i).data for i in items], "next": None})

    @extend_schema(request=dict, responses={201: dict})
    def post(self, request: Request) -> Response:
        access.check_site_admin(actor(request))
        ser = self.serializer(data=_data(request))
        ser.is_valid(raise_exception=True)
        with write_transaction():
            obj = ser.save()
            self._audit(request, "created", obj, dict(self.serializer(obj).data))
        return Response(self.serializer(obj).data, status=201)


class _Item(_Resource, APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, item_id: int) -> Response:
        return Response(self.serializer(self._get(request, item_id)).data)

    @extend_schema(request=dict, responses={200: dict})
    def patch(self, request: Request, item_id: int) -> Response:
        obj = self._get(request, item_id)
        ser = self.serializer(obj, data=_data(request), partial=True)
        ser.is_valid(raise_exception=True)
        with write_transaction():
            obj = ser.save()
            self._audit(request, "updated", obj, {"changed": sorted(_data(request))})
        return Response(self.serializer(obj).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, item_id: int) -> Response:
        obj = self._get(request, item_id)
        with write_transaction():
            self._audit(request, "deleted", obj, {"name": str(obj)})
            obj.delete()
        return Response(status=204)


class RotationsView(_Collection):
    model, serializer, kind = Rotation, RotationSerializer, "rotation"


class RotationView(_Item):
    model, serializer, kind = Rotation, RotationSerializer, "rotation"


class RunbookActionsView(_Collection):
    model, serializer, kind = RunbookAction, RunbookActionSerializer, "runbook_action"


class RunbookActionView(_Item):
    model, serializer, kind = RunbookAction, RunbookActionSerializer, "runbook_action"


class StatusEndpointsView(_Collection):
    model, serializer, kind = StatusEndpoint, StatusEndpointSerializer, "status_endpoint"


class StatusEndpointView(_Item):
    model, serializer, kind = StatusEndpoint, StatusEndpointSerializer, "status_endpoint"


class HookTokensView(_Collection):
    model, serializer, kind = BotHookToken, HookTokenSerializer, "hook_token"

    @extend_schema(request=dict, responses={201: dict})
    def post(self, request: Request) -> Response:
        """Issue (or replace) a bot's hook token; the raw token is shown only now."""
        access.check_site_admin(actor(request))
        ser = HookTokenSerializer(data=_data(request))
        ser.is_valid(raise_exception=True)
        bot = ser.validated_data["bot_name"]
        raw = "bh_" + secrets.token_urlsafe(32)
        with write_transaction():
            BotHookToken.objects.filter(bot_name=bot).delete()
            obj = BotHookToken.objects.create(bot_name=bot, token_digest=token_digest(raw),
                                              token_hint=raw[:8], created_by=actor(request))
            self._audit(request, "created", obj, {"bot": bot})
        data = dict(HookTokenSerializer(obj).data)
        data["token"] = raw
        data["url"] = request.build_absolute_uri(f"/hooks/bot/{bot}/") + "<name>"
        return Response(data, status=201)


class HookTokenView(_Item):
    model, serializer, kind = BotHookToken, HookTokenSerializer, "hook_token"
    http_method_names = ["get", "delete", "options", "head"]
