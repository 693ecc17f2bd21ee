"""Data of the built-in bots.

Admin-defined (Django admin pages and /api/v1/admin/bots/...): Rotation (with
RotationMember and Override), RunbookAction, StatusEndpoint, BotHookToken.
Written by the bots: Page, Incident, IncidentEvent, Reminder.
"""

from __future__ import annotations

import re
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def validate_name(value: str) -> None:
    if not NAME.match(value or ""):
        raise ValidationError("Use 1-40 lower-case letters, digits, - or _, starting with a "
                              "letter.")


class Period(models.TextChoices):
    DAILY = "daily"
    WEEKLY = "weekly"


class Rotation(models.Model):
    """Who is on call: members take turns, one shift (a day or a week) each,
    handing over at `handoff` local time; the first shift starts on `starts_on`."""

    name = models.CharField(max_length=40, unique=True, validators=[validate_name])
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.WEEKLY)
    handoff = models.TimeField(default=time(9, 0))
    tz = models.CharField(max_length=64, default="UTC")
    starts_on = models.DateField()
    escalate_minutes = models.PositiveIntegerField(default=15)
    room = models.ForeignKey("chat.Room", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+",
                             help_text="The team's room: alerts escalated and incidents "
                                       "declared there page this rotation.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class RotationMember(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.rotation_id}#{self.position}: {self.user_id}"


class Override(models.Model):
    """Someone else covers [starts_at, ends_at) of a rotation."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.user_id} covers {self.rotation_id} {self.starts_at}–{self.ends_at}"


class Page(models.Model):
    """One page; escalates to the next person of its rotation unless acked in time."""

    rotation = models.ForeignKey(Rotation, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    target = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="+")
    room = models.ForeignKey("chat.Room", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    text = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    notified = models.JSONField(default=list)  # user ids paged so far, in order
    escalate_at = models.DateTimeField(null=True, blank=True, db_index=True)
    acked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    acked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"page {self.pk} to {self.target_id}"


class Severity(models.TextChoices):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"


class Incident(models.Model):
    title = models.CharField(max_length=200)
    sev = models.CharField(max_length=4, choices=Severity.choices)
    status = models.CharField(max_length=20, default="investigating")
    room = models.OneToOneField("chat.Room", null=True, on_delete=models.SET_NULL,
                                related_name="+")
    declared_in = models.ForeignKey("chat.Room", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    roles = models.JSONField(default=dict)  # role -> user id
    summary_message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_nudged_at = models.DateTimeField(null=True, blank=True)
    timeline = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.label} {self.title}"

    @property
    def label(self) -> str:
        return f"INC-{self.pk}"


class IncidentEvent(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16)  # declared|status|sev|assign|note|resolved|...
    text = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text[:50]}"


class Reminder(models.Model):
    """A one-shot (`cron` empty) or repeating reminder, to a person (DM) or a room."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="+")
    room = models.ForeignKey("chat.Room", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")  # None: a DM to created_by
    text = models.TextField()
    due_at = models.DateTimeField(db_index=True)
    cron = models.CharField(max_length=64, blank=True)
    tz = models.CharField(max_length=64, default="UTC")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"reminder {self.pk} at {self.due_at}"


class RunbookAction(models.Model):
    """An allow-listed command an admin defined: argv template with typed parameters.

    `argv` is a list of strings; `{param}` placeholders are filled with
    validated values, one argv element each (never a shell). `params` maps a
    name to {"type": "str|int|choice", "choices": [...], "pattern": "...",
    "required": true, "default": ...}.
    """

    name = models.CharField(max_length=40, unique=True, validators=[validate_name])
    description = models.CharField(max_length=200, blank=True)
    argv = models.JSONField()
    params = models.JSONField(default=dict, blank=True)
    cwd = models.CharField(max_length=500, blank=True)
    env = models.JSONField(default=dict, blank=True)
    timeout_seconds = models.PositiveIntegerField(default=60)
    run_policy = models.JSONField(default=list, blank=True)  # principals; empty: room:member
    needs_approval = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from .runbook_exec import check_action

        try:
            check_action(self)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class StatusEndpoint(models.Model):
    """An HTTP endpoint the status bot checks; up/down changes are posted in `room`."""

    name = models.CharField(max_length=40, unique=True, validators=[validate_name])
    url = models.URLField(max_length=2000)
    expected_status = models.PositiveIntegerField(default=200)
    timeout_seconds = models.FloatField(default=5.0)
    room = models.ForeignKey("chat.Room", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    failures_before_down = models.PositiveIntegerField(default=2)  # the flap guard
    enabled = models.BooleanField(default=True)
    up = models.BooleanField(null=True, blank=True)  # None: never checked
    failures = models.PositiveIntegerField(default=0)
    last_status = models.IntegerField(null=True, blank=True)
    last_latency_ms = models.IntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class BotHookToken(models.Model):
    """The credential of POST /hooks/bot/<bot>/<name> (one per bot; stored hashed)."""

    bot_name = models.CharField(max_length=40, unique=True)
    token_digest = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=16)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"hook token of @{self.bot_name} ({self.token_hint}…)"
