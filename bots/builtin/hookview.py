"""POST /hooks/bot/<bot>/<name>: deliver a JSON payload to a bot's @webhook receiver.

The credential is the bot's hook token (issued by a site admin through
/api/v1/admin/bots/hook-tokens, stored hashed), sent as `Authorization: Bearer
<token>` or `X-Bot-Token: <token>`. A plain Django view like the integrations
receivers: no session, no CSRF. The receiver runs on the bot runtime; the
answer is 202 with the run id, before the handler finishes; 403 when the
receiver's room is archived (read-only: nothing runs).
"""

from __future__ import annotations

import hmac
import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from chatserver.api.errors import error_body
from chatserver.chat.errors import ChatError

from .api import token_digest
from .models import BotHookToken


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


@csrf_exempt
def bot_hook_view(request: HttpRequest, bot: str, name: str) -> HttpResponse:
    if request.method != "POST":
        resp = _error("method_not_allowed", "Send the payload with POST.", 405)
        resp["Allow"] = "POST"
        return resp
    header = request.headers.get("Authorization", "")
    raw = header[7:].strip() if header.lower().startswith("bearer ") else \
        request.headers.get("X-Bot-Token", "").strip()
    if not raw:
        return _error("not_authenticated", "Send the bot's hook token as a Bearer token.", 401)
    row = BotHookToken.objects.filter(token_digest=token_digest(raw)).first()
    if row is None or not hmac.compare_digest(row.bot_name, bot.lower()):
        return _error("bad_credentials", "That token is not valid for this bot.", 401)
    from bots.runtime import runtime

    handle = runtime.sync_users().get(bot.lower())
    if handle is None or name not in handle.cls.spec.webhooks:
        return _error("not_found", f"@{bot} has no webhook {name!r}.", 404)
    try:
        body = request.body
    except RequestDataTooBig:
        return _error("too_large", "The payload is too large.", 413)
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return _error("invalid", "The body must be JSON.", 400)
    try:
        run_id = runtime.deliver_webhook(bot.lower(), name, payload)
    except ChatError as exc:  # the receiver's room is archived
        return _error(exc.code, exc.message, exc.status)
    return JsonResponse({"run_id": run_id}, status=202)
