"""Fixtures for the real-time tests (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import connections


@pytest.fixture(autouse=True)
def _no_send_limit_in_this_process(monkeypatch):
    """Test data written with the actions in this process is not rate limited
    (the server processes get the same from tests/liveserver.py)."""
    from django.conf import settings

    monkeypatch.setitem(settings.CHAT, "SEND_RATE", (100_000, 10))
    monkeypatch.setitem(settings.CHAT, "BOT_SEND_RATE", (100_000, 10))


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    """Hand back the database connection sync_to_async's worker thread opened.

    Otherwise it stays checked out of the PostgreSQL pool, and dropping the test
    database at the end of the session fails with "being accessed by other users".
    """
    yield
    await sync_to_async(connections.close_all)()


def _quick_user(username: str, role: str = "member", is_bot: bool = False):
    """Like make_user, without hashing a password (PBKDF2 costs ~0.3 s a user)."""
    from chatserver.accounts.models import ApiToken, User

    user = User(username=username, display_name=username.title(), role=role, is_bot=is_bot)
    user.set_unusable_password()
    user.save()
    user.raw_token = ApiToken.issue(user)[1]  # type: ignore[attr-defined]
    return user


@pytest.fixture
def users(transactional_db):
    """An async factory: `alice, bob = await users("alice", "bob", role="admin")`.

    These users have tokens but no password; use make_user for a password login.
    """

    async def make(*names: str, **kwargs):
        return [await sync_to_async(_quick_user)(name, **kwargs) for name in names]

    return make
