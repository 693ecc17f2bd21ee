"""Users and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    GUEST = "guest"


class User(AbstractUser):
    """A person or a bot. Bots are users with is_bot=True."""

    display_name = models.CharField(max_length=150, blank=True)
    is_bot = models.BooleanField(default=False)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    # An IANA zone name ("Europe/Paris"); empty: the site's TIME_ZONE. Bots read
    # and show times of day in it (reminders, on-call shifts).
    timezone = models.CharField(max_length=64, blank=True, default="")
    # Sequence of this user's own event stream (rooms added/removed, ...).
    stream_seq = models.BigIntegerField(default=0)

    @property
    def is_site_admin(self) -> bool:
        return self.is_active and self.role in (Role.OWNER, Role.ADMIN)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def zone(self) -> str:
        """The time zone this person reads times in (theirs, else the site's)."""
        return self.timezone or settings.TIME_ZONE

    def save(self, *args, **kwargs):
        if self.is_superuser and self.role == Role.MEMBER:
            self.role = Role.OWNER
        super().save(*args, **kwargs)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the raw value is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    PREFIX = "ct_"

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user_id}"

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple[ApiToken, str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, digest=hash_token(raw))
        return token, raw
