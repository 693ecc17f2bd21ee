"""Invites by link and site-wide settings (retention)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from chatserver.accounts.models import Role


class Invite(models.Model):
    """A sign-up link. Only the SHA-256 of its token is stored; the link is shown once."""

    digest = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"invite {self.pk} ({self.role})"


class SiteSettings(models.Model):
    """One row (id=1): settings site admins change at run time."""

    # Delete messages older than this many days in rooms without their own setting.
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    # The retention sweep's claim: one process at a time runs it.
    retention_claimed_until = models.DateTimeField(null=True, blank=True)
    retention_last_run = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "site settings"

    @classmethod
    def load(cls) -> SiteSettings:
        return cls.objects.get_or_create(id=1)[0]
