"""HTTP doors: the management API (DRF, under /api/v1/) and the receivers
(/hooks/<token>[/<format>], plain Django views: the token in the URL is the
credential, so there is no session, CSRF or bearer token)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatserver.api.errors import error_body
from chatserver.api.views import _data, actor
from chatserver.chat.errors import ChatError

from . import outgoing, receive, service


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


class WebhooksView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, room_id: int) -> Response:
        hooks = service.list_webhooks(actor=actor(request), room_id=room_id)
        base = _base_url(request)
        return Response({"results": [service.hook_dict(h, base_url=base) for h in hooks],
                         "next": None})

    @extend_schema(request=inline_serializer("NewWebhook", fields={
        "name": serializers.CharField(),
        "kind": serializers.ChoiceField(["incoming", "outgoing", "command"], required=False),
        "secret": serializers.CharField(required=False),
        "url": serializers.URLField(required=False),
        "trigger_words": serializers.ListField(child=serializers.CharField(), required=False),
        "command": serializers.CharField(required=False),
        "content_type": serializers.ChoiceField(["json", "form"], required=False)}),
        responses={201: dict})
    def post(self, request: Request, room_id: int) -> Response:
        hook, raw = service.create_webhook(actor=actor(request), room_id=room_id,
                                           data=_data(request), base_url=_base_url(request))
        return Response(service.hook_dict(hook, base_url=_base_url(request), raw_token=raw),
                        status=201)


class WebhookView(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, room_id: int, hook_id: int) -> Response:
        service.revoke_webhook(actor=actor(request), room_id=room_id, hook_id=hook_id)
        return Response(status=204)


class DeliveriesView(APIView):
    @extend_schema(parameters=[OpenApiParameter("before", int)], responses={200: dict})
    def get(self, request: Request, room_id: int, hook_id: int) -> Response:
        return Response(service.list_deliveries(
            actor=actor(request), room_id=room_id, hook_id=hook_id,
            before=request.query_params.get("before")))


class ReplayView(APIView):
    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request, room_id: int, hook_id: int, delivery_id: int) -> Response:
        return Response(service.replay_delivery(actor=actor(request), room_id=room_id,
                                                hook_id=hook_id, delivery_id=delivery_id))


def _error(exc: ChatError) -> JsonResponse:
    resp = JsonResponse(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if exc.retry_after is not None:
        resp["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
    return resp


def _door(request: HttpRequest,
          handle: Callable[[bytes, str, dict[str, str]], receive.Outcome]) -> HttpResponse:
    """What every /hooks/ receiver shares: POST only, the body size limit, ChatError
    to its JSON error, "ok" (and X-Duplicate-Delivery for a retry) on success.
    `handle(body, content_type, meta)` returns the receive.Outcome."""
    if request.method != "POST":
        resp = JsonResponse(error_body("method_not_allowed", "Send the payload with POST."),
                            status=405)
        resp["Allow"] = "POST"
        return resp
    try:
        body = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return JsonResponse(error_body("too_large", f"Webhook bodies are at most {limit} bytes."),
                            status=413)
    try:
        outcome = handle(body, request.content_type or "",
                         {k: v for k, v in request.META.items() if isinstance(v, str)})
    except ChatError as exc:
        return _error(exc)
    ok = HttpResponse("ok", content_type="text/plain")
    if outcome.duplicate:
        ok["X-Duplicate-Delivery"] = str(outcome.delivery.id)
    return ok


@csrf_exempt
def receive_view(request: HttpRequest, token: str, fmt: str = "slack") -> HttpResponse:
    if request.method == "POST" and fmt not in receive.FORMATS:
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return _door(request, lambda body, content_type, meta: receive.receive(
        token=token, fmt=fmt, body=body, content_type=content_type, meta=meta))


@csrf_exempt
def respond_view(request: HttpRequest, token: str) -> HttpResponse:
    """A slash command's response_url: a later answer to one command."""
    return _door(request, lambda body, content_type, meta: outgoing.respond(
        token=token, body=body, content_type=content_type, meta=meta))
