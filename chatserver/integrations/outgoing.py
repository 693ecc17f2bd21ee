"""Outgoing webhooks and slash commands.

A message whose first word is one of an outgoing hook's trigger words (or
that starts with a command hook's `/word`) is POSTed to the hook's URL with
Mattermost's fields; a JSON answer with `text` (and/or `attachments`) is
posted back into the room by the hook's bot (in the thread when the trigger
was in a thread). Command answers are `ephemeral` (only the caller sees them)
unless `"response_type": "in_channel"`, as in Mattermost and Slack.

A command's payload carries a `response_url` (Slack's, Mattermost's delayed
response): the receiver may answer there later, up to
CHAT["WEBHOOK_RESPONSE_USES"] times within CHAT["WEBHOOK_RESPONSE_MINUTES"],
with the same JSON it could have answered at once. The URL's token is signed
with the server's key and names the hook, the command message, its thread and
its caller; it stops working when the hook is revoked. Those answers are kept
as incoming deliveries of the hook (format "response").

The listener runs on the writer's thread after commit, so it only matches
against an in-memory snapshot of the rooms that have such hooks and hands the
HTTP work to a small thread pool. Each request has a timeout, is retried with
exponential backoff on network errors, 429 and 5xx, goes only to addresses the
SSRF guard (netguard.py) allows, and is kept as an outgoing Delivery.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core import signing
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from chatserver.chat import actions, ratelimit
from chatserver.chat.errors import ChatError, InvalidInput, NotFound
from chatserver.chat.payloads import iso
from chatserver.events.tx import write_transaction

from . import netguard, slack
from .models import Delivery, DeliveryStatus, HookKind, Webhook
from .receive import Outcome, kept_headers, parse_payload

log = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 5.0
_lock = threading.Lock()
_snapshot: tuple[float, frozenset[int]] | None = None
_executor: ThreadPoolExecutor | None = None


def invalidate() -> None:
    """Forget the room snapshot (after a hook is created or revoked in this process)."""
    global _snapshot
    with _lock:
        _snapshot = None


def _rooms_with_hooks() -> frozenset[int]:
    global _snapshot
    now = time.monotonic()
    snap = _snapshot
    if snap is not None and now - snap[0] < SNAPSHOT_SECONDS:
        return snap[1]
    rooms = frozenset(Webhook.objects.filter(
        kind__in=(HookKind.OUTGOING, HookKind.COMMAND), revoked_at=None,
    ).values_list("room_id", flat=True))
    with _lock:
        _snapshot = (now, rooms)
    return rooms


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-out")
        return _executor


def on_message_posted(message: dict[str, Any]) -> None:
    """The chat.hooks listener: quick filter here, the rest on the pool."""
    if message["author"]["is_bot"] or not message["body"].strip():
        return  # bots (hooks included) never trigger hooks: no loops
    if message["room"] not in _rooms_with_hooks():
        return
    global last_future
    last_future = _pool().submit(_run, message)


# The newest submitted run: tests wait on it instead of sleeping.
last_future: Future | None = None


def match(hook: Webhook, body: str) -> tuple[str, str] | None:
    """(trigger, rest of the text) when the message triggers this hook."""
    first, _, rest = body.strip().partition(" ")
    first = first.split("\n")[0]
    rest = body.strip()[len(first):].strip()
    if hook.kind == HookKind.COMMAND:
        if first.lower() == "/" + hook.trigger_words[0]:
            return first.lower(), rest
        return None
    if first.lower() in hook.trigger_words:
        return first, rest
    return None


def _run(message: dict[str, Any]) -> None:
    try:
        hooks = list(Webhook.objects.select_related("bot_user", "room").filter(
            room_id=message["room"], kind__in=(HookKind.OUTGOING, HookKind.COMMAND),
            revoked_at=None).order_by("id"))
        for hook in hooks:
            found = match(hook, message["body"])
            if found is not None:
                call(hook, message, *found)
    except Exception:
        log.exception("outgoing webhook run failed for message %s", message.get("id"))
    finally:
        connections.close_all()  # this pool thread must not keep a connection checked out


def payload_for(hook: Webhook, message: dict[str, Any], trigger: str, rest: str
                ) -> dict[str, str]:
    """Mattermost's outgoing-webhook / slash-command fields (we have no teams)."""
    common = {
        "token": hook.secret,
        "team_id": "",
        "team_domain": "",
        "channel_id": str(message["room"]),
        "channel_name": hook.room.name,
        "user_id": str(message["author"]["id"]),
        "user_name": message["author"]["username"],
    }
    if hook.kind == HookKind.COMMAND:
        return {**common, "command": trigger, "text": rest,
                "response_url": response_url(hook, message), "trigger_id": str(message["id"])}
    created = datetime.fromisoformat(message["created_at"].replace("Z", "+00:00"))
    return {**common, "post_id": str(message["id"]), "text": message["body"],
            "trigger_word": trigger, "timestamp": str(int(created.timestamp() * 1000)),
            "thread_id": str(message["thread_id"] or ""), "file_ids": ""}


def _send(hook: Webhook, payload: dict[str, str]) -> httpx.Response:
    """POST with timeout and retries; raises netguard.Refused or httpx errors."""
    chat = settings.CHAT
    tries = max(1, int(chat["WEBHOOK_TRIES"]))
    last: Exception | None = None
    for attempt in range(tries):
        if attempt:
            time.sleep(chat["WEBHOOK_BACKOFF"] * 2 ** (attempt - 1))
        target = netguard.resolve(hook.target_url)  # again on each try: DNS may change
        parts = urlsplit(hook.target_url)
        host = f"[{target.host}]" if ":" in target.host else target.host
        headers = {"Host": host if parts.port is None else f"{host}:{parts.port}",
                   "User-Agent": "chatserver-webhook/1", "Accept": "application/json"}
        kwargs: dict[str, Any] = {"json": payload} if hook.content_type == "json" \
            else {"data": payload}
        try:
            with httpx.Client(timeout=chat["WEBHOOK_TIMEOUT"], follow_redirects=False) as client:
                resp = client.post(target.url, headers=headers,
                                   extensions={"sni_hostname": target.host}, **kwargs)
        except httpx.HTTPError as exc:
            last = exc
            continue
        if resp.status_code == 429 or resp.status_code >= 500:
            last = httpx.HTTPStatusError(f"answered {resp.status_code}", request=resp.request,
                                         response=resp)
            continue
        return resp
    assert last is not None
    raise last


def call(hook: Webhook, message: dict[str, Any], trigger: str, rest: str) -> Delivery:
    payload = payload_for(hook, message, trigger, rest)
    shown = {**payload, "token": "…"}
    delivery = Delivery(hook=hook, direction="out", format=hook.kind, body_sha256="",
                        headers={"Url": hook.target_url}, body=json.dumps(shown))
    try:
        resp = _send(hook, payload)
    except netguard.Refused as exc:
        delivery.status, delivery.error = DeliveryStatus.REFUSED, str(exc)
    except httpx.HTTPError as exc:
        delivery.status, delivery.error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"
    else:
        delivery.status = DeliveryStatus.SENT
        if resp.status_code >= 400:
            delivery.status, delivery.error = DeliveryStatus.FAILED, \
                f"answered {resp.status_code}"
        else:
            try:
                delivery.message_ids = _answer(hook, message, resp)
            except ChatError as exc:
                delivery.status, delivery.error = DeliveryStatus.FAILED, exc.message
    delivery.save()
    if delivery.error:
        log.warning("outgoing webhook %s: %s", hook.id, delivery.error)
    return delivery


def _answer(hook: Webhook, message: dict[str, Any], resp: httpx.Response) -> list[int]:
    """Post the receiver's answer; an empty answer posts nothing."""
    if not resp.content.strip():
        return []
    try:
        data = resp.json()
    except ValueError:
        text = resp.text.strip()
        data = {"text": text} if "text/plain" in resp.headers.get("content-type", "") else None
    if not isinstance(data, dict):
        raise ChatError("The receiver's answer is not a JSON object.")
    if not data.get("text") and not data.get("attachments"):
        return []
    return post_answer(hook, message, data)


def post_answer(hook: Webhook, message: dict[str, Any], data: dict[str, Any]) -> list[int]:
    """Post one answer (`text`/`attachments`, `response_type`) to `message`, which
    needs its `id`, `thread_id` and `author.id`: ephemeral for commands unless
    in_channel, in the message's thread if it was in one (or with "comment")."""
    body = slack.render(data)
    ephemeral = hook.kind == HookKind.COMMAND and data.get("response_type") != "in_channel"
    if ephemeral:
        _ephemeral(hook, message, body)
        return []
    limit = settings.CHAT["MAX_BODY_CHARS"]
    if len(body) > limit:
        body = body[:limit - 20] + "\n… (truncated)"
    thread = message["thread_id"] or (message["id"] if data.get("response_type") == "comment"
                                      else None)
    result = actions.post_message(actor=hook.bot_user, room_id=hook.room_id, body=body,
                                  thread_id=thread)
    return [result.message["id"]]


def _ephemeral(hook: Webhook, message: dict[str, Any], body: str) -> None:
    from chatserver.chat.markdown import render
    from chatserver.chat.payloads import user_brief
    from chatserver.realtime.hub import publish_user_ephemeral

    publish_user_ephemeral(message["author"]["id"], {
        "type": "message.ephemeral", "room": hook.room_id,
        "message": {"id": None, "room": hook.room_id, "author": user_brief(hook.bot_user),
                    "body": body, "html": render(body), "thread_id": message["thread_id"],
                    "created_at": iso(timezone.now())},
    })


# --- response_url: answering a slash command later ------------------------------------------

RESPONSE_SALT = "chat.integrations.response_url"


class Expired(ChatError):
    code = "expired"
    status = 410


def response_url(hook: Webhook, message: dict[str, Any]) -> str:
    """The URL where the receiver may answer this command later ("" when the server
    does not know its own address: no CHAT_PUBLIC_URL and a hook made elsewhere)."""
    base = settings.CHAT.get("PUBLIC_URL") or hook.base_url
    if not base:
        return ""
    token = signing.dumps({"h": hook.id, "m": message["id"], "t": message["thread_id"],
                           "u": message["author"]["id"]}, salt=RESPONSE_SALT)
    return f"{base.rstrip('/')}/hooks/respond/{token}"


def respond(*, token: str, body: bytes, content_type: str, meta: dict[str, str]) -> Outcome:
    """Handle one POST to a response_url. Raises ChatError: NotFound (bad token or
    revoked hook), Expired (too old or used up), InvalidInput (bad body), RateLimited.
    A body the same as an answer already posted to this command is a retry: kept
    once, posted once."""
    chat = settings.CHAT
    try:
        ref = signing.loads(token, salt=RESPONSE_SALT,
                            max_age=chat["WEBHOOK_RESPONSE_MINUTES"] * 60)
    except signing.SignatureExpired:
        raise Expired(f"This response_url expired: it works for "
                      f"{chat['WEBHOOK_RESPONSE_MINUTES']} minutes.") from None
    except signing.BadSignature:
        raise NotFound("No webhook has this token.") from None
    hook = (Webhook.objects.select_related("bot_user", "room")
            .filter(id=ref["h"], kind=HookKind.COMMAND, revoked_at=None).first())
    if hook is None:
        raise NotFound("No webhook has this token.")
    ratelimit.hit("webhook", hook.id, chat["WEBHOOK_RATE"])
    text = body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    digest = hashlib.sha256(body).hexdigest()
    prefix = f"response:{ref['m']}:"
    message = {"id": ref["m"], "thread_id": ref["t"], "author": {"id": ref["u"]}}
    error: ChatError | None = None
    with write_transaction():
        Webhook.objects.select_for_update().filter(id=hook.id).first()  # one at a time
        answers = Delivery.objects.filter(hook=hook, direction="in", format="response",
                                          delivery_id__startswith=prefix,
                                          status=DeliveryStatus.POSTED)
        previous = answers.filter(body_sha256=digest).order_by("-id").first()
        if previous is not None:
            Delivery.objects.filter(id=previous.id).update(duplicates=F("duplicates") + 1)
            return Outcome(previous, duplicate=True)
        used = answers.count()
        if used >= chat["WEBHOOK_RESPONSE_USES"]:
            raise Expired(f"This response_url was used {used} times, the most it takes.")
        tried = Delivery.objects.filter(hook=hook, delivery_id__startswith=prefix).count()
        delivery = Delivery(hook=hook, direction="in", format="response",
                            delivery_id=f"{prefix}{tried + 1}", body_sha256=digest,
                            headers=kept_headers(meta), body=text, status=DeliveryStatus.FAILED)
        try:
            with transaction.atomic():
                data = parse_payload(body, content_type)
                if not data.get("text") and not data.get("attachments"):
                    raise InvalidInput("The answer needs text or attachments.",
                                       fields={"text": "required"})
                delivery.message_ids = post_answer(hook, message, data)
            delivery.status = DeliveryStatus.POSTED
        except ChatError as exc:
            delivery.error, error = exc.message, exc
        delivery.save()
    if error is not None:
        raise error  # after commit: the failed answer is kept for inspection
    return Outcome(delivery, duplicate=False)
