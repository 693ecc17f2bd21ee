"""Incoming webhook deliveries: authenticate, keep, de-duplicate, post.

Every delivery that names a live hook and passes its signature check is kept
raw (headers and body) for CHAT["WEBHOOK_RETENTION_DAYS"], with its outcome, so
admins can see why a tool's post failed and replay it.

Retries are recognised two ways. A sender that names its delivery
(X-GitHub-Delivery, Idempotency-Key, X-Idempotency-Key, X-Delivery-Id) is
never handled twice for the same id. A sender that names none (Slack tools,
Alertmanager, Grafana) sends the same bytes again when it retries, so the same
body within CHAT["WEBHOOK_DEDUPE_SECONDS"] counts as a retry. A delivery that
failed is handled again when retried. Deliveries to one hook are handled one
at a time (the hook's row is locked), which also keeps alert objects single.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chatserver.accounts.models import hash_token
from chatserver.chat import access, actions, ratelimit
from chatserver.chat.errors import ChatError, InvalidInput, NotFound
from chatserver.chat.jsonbody import NotAnObject, json_object
from chatserver.events.tx import write_transaction

from . import alertformats, alerts, github, slack
from .models import Delivery, DeliveryStatus, HookKind, Webhook

FORMATS = ("slack", "alertmanager", "github", "grafana")
ID_HEADERS = ("X-GitHub-Delivery", "Idempotency-Key", "X-Idempotency-Key", "X-Delivery-Id")
_SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization"}


class BadSignature(ChatError):
    code = "bad_signature"
    status = 401


@dataclass
class Outcome:
    delivery: Delivery
    duplicate: bool


def find_hook(token: str) -> Webhook:
    hook = (Webhook.objects.select_related("bot_user", "room")
            .filter(token_digest=hash_token(token), kind=HookKind.INCOMING, revoked_at=None)
            .first())
    if hook is None:
        raise NotFound("No webhook has this token.")
    return hook


def _text(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The body is not valid UTF-8.") from None
    if "\x00" in text:
        raise InvalidInput("The body contains a NUL character.")
    return text


def parse_payload(body: bytes, content_type: str) -> dict[str, Any]:
    """JSON, or a form whose `payload` field holds the JSON (Slack's form variant)."""
    text = _text(body)
    if text.strip() and \
            content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        form = parse_qs(text, keep_blank_values=True)
        if "payload" not in form:
            raise InvalidInput("A form-encoded body needs a payload field holding the JSON.",
                               fields={"payload": "required"})
        text = form["payload"][0]
    try:
        return json_object(text)
    except NotAnObject as exc:
        raise InvalidInput(str(exc)) from None


def kept_headers(meta: dict[str, str]) -> dict[str, str]:
    """The request headers worth keeping with a delivery (never credentials)."""
    kept = {}
    for key, value in meta.items():
        if key.startswith("HTTP_") or key == "CONTENT_TYPE":
            name = key.removeprefix("HTTP_").replace("_", "-").title()
            if name.lower() not in _SECRET_HEADERS:
                kept[name] = value[:1000]
    return kept


def _delivery_id(headers: dict[str, str]) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ID_HEADERS:
        value = lowered.get(name.lower())
        if value and value.strip():
            return value.strip()[:200]
    return None


def receive(*, token: str, fmt: str, body: bytes, content_type: str,
            meta: dict[str, str]) -> Outcome:
    """Handle one request to /hooks/<token>[/<fmt>]. Raises ChatError (NotFound,
    InvalidInput, BadSignature, RateLimited) or returns the kept delivery."""
    hook = find_hook(token)
    ratelimit.hit("webhook", hook.id, settings.CHAT["WEBHOOK_RATE"])
    headers = kept_headers(meta)
    if fmt == "github" and hook.secret and not github.signature_ok(
            hook.secret, body, meta.get("HTTP_X_HUB_SIGNATURE_256")):
        raise BadSignature("The X-Hub-Signature-256 header does not match the hook's secret.")
    text = body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    digest = hashlib.sha256(body).hexdigest()
    delivery_id = _delivery_id(headers)
    with write_transaction():
        Webhook.objects.select_for_update().filter(id=hook.id).first()
        done = (DeliveryStatus.POSTED, DeliveryStatus.IGNORED)
        previous = None
        if delivery_id is not None:
            previous = Delivery.objects.filter(hook=hook, delivery_id=delivery_id).first()
        else:
            since = timezone.now() - timedelta(seconds=settings.CHAT["WEBHOOK_DEDUPE_SECONDS"])
            previous = (Delivery.objects.filter(hook=hook, body_sha256=digest, direction="in",
                                                created_at__gte=since, status__in=done)
                        .order_by("-id").first())
        if previous is not None and previous.status in done:
            Delivery.objects.filter(id=previous.id).update(duplicates=F("duplicates") + 1)
            return Outcome(previous, duplicate=True)
        delivery = previous or Delivery(hook=hook, delivery_id=delivery_id)
        delivery.format = fmt
        delivery.body_sha256 = digest
        delivery.headers = headers
        delivery.body = text
        error = process(hook, delivery, replay=False, raw=body)
    if error is not None:
        raise error  # after commit: the failed delivery is kept for inspection and replay
    return Outcome(delivery, duplicate=False)


def process(hook: Webhook, delivery: Delivery, *, replay: bool,
            raw: bytes | None = None) -> ChatError | None:
    """Parse and post one delivery inside the caller's transaction; record the outcome.
    A hook whose room is archived fails every delivery (Forbidden).

    A failure leaves nothing posted (the posting runs in a savepoint) but the
    delivery is saved as failed; the error is returned for the caller to raise
    once the transaction has committed.
    """
    if delivery.pk is None:
        delivery.status = DeliveryStatus.FAILED
        delivery.save()  # an id first, so a message's client_msg_id can name it
    body = raw if raw is not None else delivery.body.encode("utf-8")
    content_type = delivery.headers.get("Content-Type", "")
    error: ChatError | None = None
    try:
        with transaction.atomic():
            # An archived room takes no deliveries at all, even ones that would post
            # nothing (a GitHub ping, an empty alert group): the sender learns at once
            # that its messages go nowhere, and the kept delivery can be replayed
            # after unarchiving.
            access.check_writable(access.RoomAccess(hook.room, None))
            payload = parse_payload(body, content_type)
            ids = _handle(hook, delivery, payload, replay=replay)
        delivery.status = DeliveryStatus.POSTED if ids else DeliveryStatus.IGNORED
        delivery.message_ids = ids
        delivery.error = ""
    except ChatError as exc:
        delivery.status = DeliveryStatus.FAILED
        delivery.error = exc.message
        error = exc
    delivery.save()
    return error


def _client_msg_id(delivery: Delivery, replay: bool) -> str:
    return f"wh{delivery.pk}r{delivery.replays}" if replay else f"wh{delivery.pk}"


def _post(hook: Webhook, delivery: Delivery, body: str, replay: bool) -> list[int]:
    limit = settings.CHAT["MAX_BODY_CHARS"]
    if len(body) > limit:
        body = body[:limit - 20] + "\n… (truncated)"
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("The payload contains an unpaired UTF-16 surrogate.") from None
    result = actions.post_message(actor=hook.bot_user, room_id=hook.room_id, body=body,
                                  client_msg_id=_client_msg_id(delivery, replay))
    return [result.message["id"]]


def _handle(hook: Webhook, delivery: Delivery, payload: dict[str, Any], *,
            replay: bool) -> list[int]:
    fmt = delivery.format
    if fmt == "slack":
        return _post(hook, delivery, slack.render(payload), replay)
    if fmt == "github":
        event = delivery.headers.get("X-Github-Event", "")
        if not event:
            raise InvalidInput("The X-GitHub-Event header is missing.",
                               fields={"X-GitHub-Event": "required"})
        text = github.render(event, payload)
        return _post(hook, delivery, text, replay) if text else []
    events = (alertformats.alertmanager(payload) if fmt == "alertmanager"
              else alertformats.grafana(payload))
    written: list[int] = []
    for event in events:
        written.extend(alerts.apply_event(hook, event))
    return written
