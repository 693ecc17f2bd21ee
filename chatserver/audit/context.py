"""Where the current request comes from, for audit entries written deep inside actions.

A context variable set by ClientIPMiddleware: actions do not take the request,
yet every audit entry should say from where the action came.
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar

from django.conf import settings

client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


def ip_of(request) -> str | None:
    """The caller's address: REMOTE_ADDR, or the proxy's X-Forwarded-For entry
    when CHAT_TRUST_PROXY says a proxy in front of us sets it."""
    raw = request.META.get("REMOTE_ADDR") or ""
    if settings.CHAT.get("TRUST_PROXY"):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The last entry is the one our own proxy appended; earlier ones are the client's word.
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            raw = hops[-1]
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


class ClientIPMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = client_ip.set(ip_of(request))
        try:
            return self.get_response(request)
        finally:
            client_ip.reset(token)
