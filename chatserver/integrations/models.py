"""Webhooks (incoming and outgoing), their raw deliveries, and alert objects."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class HookKind(models.TextChoices):
    INCOMING = "incoming"
    OUTGOING = "outgoing"  # trigger words -> POST to a URL
    COMMAND = "command"  # /word -> POST to a URL (a slash command)


class Webhook(models.Model):
    """One integration bound to one room; it posts as its own bot user."""

    room = models.ForeignKey("chat.Room", on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=HookKind.choices)
    # SHA-256 of the incoming token (the raw token is shown once, like ApiToken).
    token_digest = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=16)
    # Incoming: the GitHub HMAC secret (optional). Outgoing/command: the token sent
    # with every request so the receiver can check it came from us.
    secret = models.CharField(max_length=200, blank=True)
    bot_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Outgoing and command hooks.
    target_url = models.URLField(max_length=2000, blank=True)
    trigger_words = models.JSONField(default=list, blank=True)
    content_type = models.CharField(max_length=8, default="json")  # json | form
    # Where the hook was created (scheme and host): the base of a slash command's
    # response_url when CHAT_PUBLIC_URL is not set.
    base_url = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["room", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} hook {self.pk} in {self.room_id}"


class DeliveryStatus(models.TextChoices):
    POSTED = "posted"  # handled: a message was posted or an alert updated
    IGNORED = "ignored"  # a valid event we do not post (GitHub ping, ...)
    FAILED = "failed"  # kept for inspection and replay
    SENT = "sent"  # outgoing: the receiver answered
    REFUSED = "refused"  # outgoing: the SSRF guard refused the address


class Delivery(models.Model):
    """One raw request received (or sent), kept WEBHOOK_RETENTION_DAYS days."""

    hook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    direction = models.CharField(max_length=3, default="in")  # in | out
    format = models.CharField(max_length=16)  # slack, alertmanager, github, grafana, outgoing
    # The sender's id (X-GitHub-Delivery, Idempotency-Key, ...): unique per hook.
    delivery_id = models.CharField(max_length=200, null=True, blank=True)
    body_sha256 = models.CharField(max_length=64, db_index=True)
    headers = models.JSONField(default=dict)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices)
    error = models.TextField(blank=True)
    message_ids = models.JSONField(default=list)
    duplicates = models.IntegerField(default=0)
    replays = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hook", "delivery_id"],
                                    condition=Q(delivery_id__isnull=False),
                                    name="delivery_id_unique_per_hook"),
        ]
        indexes = [models.Index(fields=["hook", "body_sha256", "created_at"])]

    def __str__(self) -> str:
        return f"delivery {self.pk} of hook {self.hook_id}"


class AlertState(models.TextChoices):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(models.Model):
    """An alert object: one message per fingerprint, edited in place as events arrive."""

    hook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="alerts")
    room = models.ForeignKey("chat.Room", on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=200)
    source = models.CharField(max_length=16)  # alertmanager | grafana
    title = models.CharField(max_length=300)
    state = models.CharField(max_length=8, choices=AlertState.choices)
    detail = models.JSONField(default=dict)  # the latest rendering inputs
    count = models.IntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    message = models.ForeignKey("chat.Message", null=True, on_delete=models.SET_NULL,
                                related_name="+")
    acked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    acked_at = models.DateTimeField(null=True, blank=True)
    silenced_until = models.DateTimeField(null=True, blank=True)
    silenced_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "fingerprint"],
                                    name="alert_fingerprint_unique_per_room"),
        ]

    def __str__(self) -> str:
        return f"alert {self.fingerprint} in {self.room_id}"
