"""Rooms, memberships, messages, reactions, mentions. Data only: writes live in actions.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Visibility(models.TextChoices):
    PUBLIC = "public"
    PRIVATE = "private"
    DIRECT = "direct"


class PostingPolicy(models.TextChoices):
    EVERYONE = "everyone"
    ADMINS = "admins"


class InvitePolicy(models.TextChoices):
    EVERYONE = "everyone"
    ADMINS = "admins"


class RoomRole(models.TextChoices):
    ADMIN = "admin"
    MEMBER = "member"


class Room(models.Model):
    name = models.CharField(max_length=80)
    topic = models.CharField(max_length=500, blank=True)
    visibility = models.CharField(max_length=8, choices=Visibility.choices)
    archived = models.BooleanField(default=False)
    posting_policy = models.CharField(
        max_length=8, choices=PostingPolicy.choices, default=PostingPolicy.EVERYONE
    )
    # Who may add people: every member, or room admins only (site admins always may).
    invite_policy = models.CharField(
        max_length=8, choices=InvitePolicy.choices, default=InvitePolicy.EVERYONE
    )
    # Whether bots may be added (by room admins or site admins only).
    allow_bots = models.BooleanField(default=True)
    # Delete messages older than this many days (None: the site setting applies).
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    # Seq of the room's newest event; bumped inside every writing transaction.
    last_seq = models.BigIntegerField(default=0)
    # For direct rooms: the sorted member ids, so one set of people has one room.
    dm_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=~Q(visibility="direct"),
                name="room_name_unique_except_dm",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.name}"


class Membership(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=8, choices=RoomRole.choices, default=RoomRole.MEMBER)
    last_read_seq = models.BigIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="membership_unique")
        ]
        indexes = [models.Index(fields=["user", "room"])]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    # The seq of the message.new event; orders history in commit order.
    seq = models.BigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages"
    )
    body = models.TextField()
    html = models.TextField()
    thread_root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    reply_count = models.IntegerField(default=0)
    client_msg_id = models.CharField(max_length=64, null=True, blank=True)
    mentions_room = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    # Pinned to its room (actions.pin_message); both None when not pinned.
    pinned_at = models.DateTimeField(null=True, blank=True)
    # No index of its own: nearly every row is NULL and every insert would pay for it.
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_msg_id"],
                condition=Q(client_msg_id__isnull=False),
                name="message_client_msg_id_unique",
            ),
            models.UniqueConstraint(fields=["room", "seq"], name="message_room_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["thread_root", "seq"]),
            # A room's pins, newest first: small, since few messages are pinned.
            models.Index(fields=["room", "-pinned_at"], condition=Q(pinned_at__isnull=False),
                         name="message_room_pins"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.room_id}"


class Reaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_unique")
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on {self.message_id}"


class Mention(models.Model):
    """A user named with @username in a message; @room is Message.mentions_room."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mention_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["user", "room", "seq"])]

    def __str__(self) -> str:
        return f"@{self.user_id} in {self.message_id}"
