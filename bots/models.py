"""Bot state in the database: runs (exactly once per message and bot), per-bot
health, key-value storage and scheduled jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    CLAIMED = "claimed"  # taken by one process, not decided yet
    AWAITING = "awaiting_approval"
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    DENIED = "denied"
    USAGE = "usage_error"
    REJECTED = "rejected"  # an approver said no
    EXPIRED = "expired"
    IGNORED = "ignored"  # bot paused, muted or not in the room


class BotRun(models.Model):
    """One bot's handling of one message (or one schedule/webhook firing).

    The unique (message, bot) pair is what makes a command run once however
    many processes see the message: the first INSERT wins.
    """

    bot = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                            related_name="+")
    message = models.ForeignKey("chat.Message", null=True, on_delete=models.SET_NULL,
                                related_name="+")
    room = models.ForeignKey("chat.Room", null=True, on_delete=models.SET_NULL, related_name="+")
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    kind = models.CharField(max_length=16, default="command")  # command|listener|schedule|webhook
    command = models.CharField(max_length=100, blank=True)
    canonical = models.TextField(blank=True)
    args = models.JSONField(default=dict)  # frozen arguments (approvals)
    status = models.CharField(max_length=20, choices=RunStatus.choices,
                              default=RunStatus.CLAIMED)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    thread_id = models.BigIntegerField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "bot"], name="botrun_once_per_message",
                                    condition=models.Q(message__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of bot {self.bot_id}: {self.command} ({self.status})"


class BotState(models.Model):
    """Health of one bot: paused after repeated failures, muted after flooding."""

    bot = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="+", primary_key=True)
    paused = models.BooleanField(default=False)
    consecutive_failures = models.IntegerField(default=0)
    muted_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"bot {self.bot_id} state"


class BotValue(models.Model):
    """Per-bot key-value storage (JSON values); `scope` separates rooms or users."""

    bot = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=64, default="", blank=True)
    key = models.CharField(max_length=200)
    value = models.JSONField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot", "scope", "key"], name="botvalue_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.bot_id}:{self.scope}:{self.key}"


class ScheduledJob(models.Model):
    """A declared schedule of a bot (interval or cron), claimed by one process per firing."""

    bot = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    handler = models.CharField(max_length=100)
    interval_seconds = models.FloatField(null=True, blank=True)
    cron = models.CharField(max_length=100, blank=True)
    tz = models.CharField(max_length=64, default="UTC")
    next_run_at = models.DateTimeField(db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot", "handler"], name="scheduledjob_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.bot_id}.{self.handler} at {self.next_run_at}"
