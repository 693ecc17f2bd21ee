"""One error shape for every REST answer: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from chatserver.chat.errors import ChatError

log = logging.getLogger(__name__)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def known_error(exc: BaseException) -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) for the errors an action may raise, else None.

    Shared by the DRF exception handler and the message fast path (api/fastpost.py)."""
    if isinstance(exc, ChatError):
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
        return exc.status, error_body(exc.code, exc.message, exc.fields), headers
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is restarting or unreachable; the write was one transaction,
        # so nothing is half-written and the client may retry (same client_msg_id).
        log.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return (status.HTTP_503_SERVICE_UNAVAILABLE,
                error_body("unavailable", "The database is unavailable; retry shortly."),
                {"Retry-After": "1"})
    return None


def exception_handler(exc, context):
    known = known_error(exc)
    if known is not None:
        status_code, body, headers = known
        return Response(body, status=status_code, headers=headers)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("too_large", "The request body is too large."),
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", "Not found."), status=404)
    response = drf_handler(exc, context)
    if response is None:
        return None
    code = "error"
    fields: dict = {}
    message = "Request failed."
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code, message = "not_authenticated", str(exc.detail)
    elif isinstance(exc, exceptions.PermissionDenied):
        code, message = "forbidden", str(exc.detail)
    elif isinstance(exc, exceptions.ParseError):
        code, message = "invalid_json", str(exc.detail)
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        code, message = "unsupported_media_type", str(exc.detail)
    elif isinstance(exc, exceptions.MethodNotAllowed):
        code, message = "method_not_allowed", str(exc.detail)
    elif isinstance(exc, exceptions.Throttled):
        code, message = "rate_limited", str(exc.detail)
    elif isinstance(exc, exceptions.ValidationError):
        code, message = "invalid", "Invalid input."
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field": exc.detail}
    elif isinstance(exc, exceptions.APIException):
        code, message = exc.default_code, str(exc.detail)
    response.data = error_body(code, message, fields)
    return response


def json_error(request, code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def handler404(request, exception=None):
    return json_error(request, "not_found", "Not found.", 404)


def handler500(request):
    return json_error(request, "server_error", "The server failed.", 500)


def handler400(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return json_error(request, "too_large", "The request body is too large.", 413)
    return json_error(request, "bad_request", "Bad request.", 400)
