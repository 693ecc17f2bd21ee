"""Shared fixtures: users and tokens, HTTP clients, real server processes."""

from __future__ import annotations

import itertools
import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from chatserver.accounts.models import ApiToken, Role, User

from .liveserver import LiveServer, database_url_from

_names = itertools.count(1)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache; start every test with none."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def make_user(db):
    """Create a user: make_user("alice", role="admin", is_bot=False, is_active=True)."""

    def make(username: str | None = None, *, role: str = Role.MEMBER, is_bot: bool = False,
             is_active: bool = True, password: str = "correct horse 42") -> User:
        username = username or f"user{next(_names)}"
        user = User(username=username, display_name=username.title(), role=role,
                    is_bot=is_bot, is_active=is_active)
        user.set_password(password)
        user.save()
        user.raw_token = ApiToken.issue(user)[1]  # type: ignore[attr-defined]
        return user

    return make


@pytest.fixture
def client_for():
    """An APIClient authenticated with the user's bearer token (None: anonymous)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {user.raw_token}")  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture(scope="session")
def live_database_url(django_db_setup, django_db_blocker) -> str:
    from django.db import connection

    with django_db_blocker.unblock():
        return database_url_from(connection.settings_dict)


@pytest.fixture(scope="session")
def live_server_proc(live_database_url):
    """One real server process for the session (the default server, uvicorn)."""
    server = LiveServer(live_database_url).start()
    yield server
    server.stop()


@pytest.fixture
def live(live_server_proc, transactional_db):
    """The session's live server, with a committed (transactional) test database."""
    return live_server_proc


@pytest.fixture
def start_server(live_database_url, transactional_db):
    """Start extra server processes: start_server(env={...}, server="daphne")."""
    started: list[LiveServer] = []

    def start(env: dict[str, str] | None = None, server: str = "uvicorn") -> LiveServer:
        s = LiveServer(live_database_url, env_overrides=env or {}, server=server).start()
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


requires_postgres = pytest.mark.skipif(
    not settings.IS_POSTGRES, reason="runs in the PostgreSQL + Redis pass of CI"
)
requires_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="runs in the PostgreSQL + Redis pass of CI"
)
