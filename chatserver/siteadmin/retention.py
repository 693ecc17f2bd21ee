"""Message retention: delete messages older than a room's (or the site's) limit.

Runs from `manage.py apply_retention` (cron) or from a thread in every server
process every CHAT["RETENTION_INTERVAL"] seconds; a claim on the SiteSettings
row makes sure one process at a time does the sweep. Messages are deleted
through the same redaction as delete_message (blanked, their stored events
rewritten), and every room's sweep is audited.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from chatserver.audit import log as audit
from chatserver.chat import actions
from chatserver.chat.models import Message, Room

from .models import SiteSettings

log = logging.getLogger(__name__)
CLAIM = timedelta(minutes=10)


def apply_retention(*, now=None) -> dict[int, int]:
    """Delete expired messages in every room; return {room id: messages deleted}."""
    now = now or timezone.now()
    site_days = SiteSettings.load().retention_days
    rooms = Room.objects.all() if site_days else Room.objects.filter(
        retention_days__isnull=False)
    done: dict[int, int] = {}
    for room in rooms.only("id", "retention_days"):
        days = room.retention_days or site_days
        if not days:
            continue
        before = now - timedelta(days=days)
        if not Message.objects.filter(room_id=room.id, deleted=False,
                                      created_at__lt=before).exists():
            continue
        total = 0
        while True:
            ids = actions.expire_messages(room_id=room.id, before=before)
            total += len(ids)
            if len(ids) < 500:
                break
        with transaction.atomic():
            audit.record(actor=None, action="retention.applied", target=f"room:{room.id}",
                         room=room, detail={"days": days, "deleted": total,
                                            "before": before.isoformat()})
        done[room.id] = total
    SiteSettings.objects.filter(id=1).update(retention_last_run=now)
    return done


def claim(now=None) -> bool:
    """Take the sweep for CLAIM; False when another process holds it."""
    now = now or timezone.now()
    SiteSettings.load()
    won = SiteSettings.objects.filter(id=1).filter(
        Q(retention_claimed_until__isnull=True) | Q(retention_claimed_until__lt=now)
    ).update(retention_claimed_until=now + CLAIM)
    return bool(won)


def release() -> None:
    SiteSettings.objects.filter(id=1).update(retention_claimed_until=None)


def run_claimed() -> dict[int, int] | None:
    if not claim():
        return None
    try:
        return apply_retention()
    finally:
        release()


_started = False


def start_periodic() -> None:
    """Start the sweep thread of this process (once)."""
    global _started
    interval = settings.CHAT["RETENTION_INTERVAL"]
    if _started or interval <= 0:
        return
    _started = True

    def loop() -> None:
        stop = threading.Event()
        while not stop.wait(interval):
            try:
                run_claimed()
            except Exception:
                log.exception("retention sweep failed")
            finally:
                close_old_connections()

    threading.Thread(target=loop, name="retention", daemon=True).start()
