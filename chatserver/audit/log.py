"""Record audit entries. Called by actions, inside their transaction."""

from __future__ import annotations

from typing import Any

from .context import client_ip
from .models import AuditEntry


def record(*, actor, action: str, target: str = "", room=None, detail: dict[str, Any] | None = None,
           ip: str | None = None) -> AuditEntry:
    """Append one entry; the caller's address comes from the request when not given."""
    return AuditEntry.objects.create(
        actor=actor, action=action, target=target, room=room, detail=detail or {},
        ip=ip if ip is not None else client_ip.get(),
    )
