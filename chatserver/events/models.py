"""The durable event log: the truth that live sockets and resume are built on."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RoomEvent(models.Model):
    """One change in a room, numbered by the room's gapless seq in commit order.

    `frame` is the JSON text sent to clients, serialized once at write time.
    """

    room = models.ForeignKey("chat.Room", on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=32)
    frame = models.TextField()
    created_at = models.DateTimeField(db_index=True)
    # The message a message.* event is about, so deletion can redact its frames.
    message_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "seq"], name="room_event_seq")]

    def __str__(self) -> str:
        return f"{self.type} {self.room_id}/{self.seq}"


class UserEvent(models.Model):
    """A change for one user (added to a room, removed from one), on their own stream."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=32)
    frame = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "seq"], name="user_event_seq")]

    def __str__(self) -> str:
        return f"{self.type} user {self.user_id}/{self.seq}"
