"""POST /api/v1/rooms/{id}/messages with a Bearer token, without Django's request cycle.

Integrations (CI, monitoring, scripts, other bots) post through REST with a token:
it is the busiest REST call. Through Django a post crosses four threads (the event
loop, an a2wsgi worker running the middleware and DRF, the loop again for the
group commit, a database thread) and cost 3.3-3.5 ms of server CPU; answered here,
on the loop, it costs 1.3 ms (one uvicorn process, PostgreSQL + Redis, 8 keep-alive
posters). The post still goes through the one write path: the sockets' group
commit (realtime/writer.py), which also looks up the token together with the
batch's other tokens, and `actions.post_messages`.

Only the plain case is answered here: a Bearer token of an active user, a JSON
content type, a body that is a JSON object within the size limit. Anything else -
cookies and CSRF, a missing or bad token, a bad body, an HTTPS redirect - goes to
Django with the body replayed, so every such answer comes from the one place that
makes it. Answers of actions (201, 200 for a retry, the errors) are rendered with
the same renderer, error shapes and headers as the Django path; tests/api/
test_fastpost.py compares the two on real server processes, one started with
CHAT_REST_FAST_POST=0.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from rest_framework.exceptions import ParseError
from rest_framework.renderers import JSONRenderer

from chatserver.chat.errors import TooLarge
from chatserver.chat.ids import MAX_ID
from chatserver.realtime.writer import TokenPost, TokenRefused, post_queue
from chatserver.siteadmin.security import COOP, CSP

from .errors import error_body, known_error
from .parsers import parse_json_object

log = logging.getLogger(__name__)
request_log = logging.getLogger("django.request")  # where Django logs 4xx and 5xx answers

PATH = re.compile(r"/api/v1/rooms/([0-9]{1,19})/messages")
ALLOW = b"GET, POST, HEAD, OPTIONS"  # MessagesView's methods, as DRF's Allow header says
_render = JSONRenderer().render

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
App = Callable[..., Awaitable[None]]


def handles(scope: Scope) -> bool:
    return (scope["method"] == "POST" and settings.CHAT["REST_FAST_POST"]
            and PATH.fullmatch(scope["path"]) is not None)


async def handle(scope: Scope, receive: Receive, send: Send, django: App) -> None:
    """Answer the post, or pass the request on to Django with its body replayed."""
    headers = dict(scope["headers"])  # ASGI: lower-case names; the last one of a name wins
    body, more = await _read_body(receive, headers)
    replayed = False

    async def replay() -> dict:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": more}

    request = None if more else _plain_request(scope, headers, body)
    if request is None:
        return await django(scope, replay, send)
    room_id, raw_token, data = request
    extra: dict[str, str] = {}
    try:
        # The token is looked up with the batch's other tokens (realtime/writer.py).
        result = await post_queue.post(TokenPost(
            token=raw_token, room_id=room_id, body=data.get("body"),
            client_msg_id=data.get("client_msg_id"), thread_id=data.get("thread_id")))
    except TokenRefused:  # Django answers 401 with the reason
        return await django(scope, replay, send)
    except Exception as exc:
        known = known_error(exc)
        if known is None:
            log.exception("posting a message failed")
            status, payload = 500, error_body("server_error", "The server failed.")
        else:
            status, payload, extra = known
    else:
        status, payload = (201 if result.created else 200), result.message
    if status >= 400:
        (request_log.error if status >= 500 else request_log.warning)(
            "%s: %s", HTTPStatus(status).phrase, scope["path"])
    await _respond(send, status, _render(payload), extra, _is_secure(scope, headers))


async def _read_body(receive: Receive, headers: dict[bytes, bytes]) -> tuple[bytes, bool]:
    """The body, read up to one byte past the limit; (bytes, more_body)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        return b"", True  # not read at all: Django answers 413
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks), True
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body"):
            return b"".join(chunks), False
        if size > limit:
            return b"".join(chunks), True


def _plain_request(scope: Scope, headers: dict[bytes, bytes],
                   body: bytes) -> tuple[int, str, dict] | None:
    """(room id, token, body object) when this is the plain case, else None."""
    if not _host_allowed(headers) or (settings.SECURE_SSL_REDIRECT
                                      and not _is_secure(scope, headers)):
        return None
    match = PATH.fullmatch(scope["path"])
    auth = headers.get(b"authorization", b"").split()
    if match is None or len(auth) != 2 or auth[0].lower() != b"bearer":
        return None
    media_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    room_id = int(match[1])
    if media_type != b"application/json" or room_id > MAX_ID:
        return None
    try:
        token = auth[1].decode()
        data = parse_json_object(body)
    except (UnicodeDecodeError, ParseError, TooLarge):
        return None
    return room_id, token, data


def _host_allowed(headers: dict[bytes, bytes]) -> bool:
    """Django's HttpRequest.get_host() check (a bad Host gets Django's 400)."""
    name = b"x-forwarded-host" if settings.USE_X_FORWARDED_HOST else b"host"
    host = headers.get(name) or headers.get(b"host", b"")
    domain, _port = split_domain_port(host.decode("latin-1"))
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def _is_secure(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    """Django's HttpRequest.is_secure(), from the ASGI scope."""
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
        value = headers.get(name)
        if value is not None:
            return value.split(b",", 1)[0].strip().decode("latin-1") == proxy[1]
    return scope.get("scheme") == "https"


def _security_headers(secure: bool) -> list[tuple[bytes, bytes]]:
    """What Django's SecurityMiddleware, XFrameOptionsMiddleware and our
    SecurityHeadersMiddleware add to a JSON answer with the settings in force."""
    out = [(b"x-frame-options", settings.X_FRAME_OPTIONS.encode()),
           (b"content-security-policy", CSP.encode()),
           (b"cross-origin-opener-policy", COOP.encode())]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        out.append((b"x-content-type-options", b"nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        out.append((b"referrer-policy", settings.SECURE_REFERRER_POLICY.encode()))
    if secure and settings.SECURE_HSTS_SECONDS:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        out.append((b"strict-transport-security", hsts.encode()))
    return out


async def _respond(send: Send, status: int, content: bytes, extra: dict[str, str],
                   secure: bool) -> None:
    headers = [(b"content-type", b"application/json"), (b"allow", ALLOW),
               (b"content-length", str(len(content)).encode()),
               *_security_headers(secure),
               *((name.lower().encode(), value.encode()) for name, value in extra.items())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
