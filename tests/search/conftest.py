"""Search tests go through GET /api/v1/search with data written by the real actions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import _fast_tests, make_room, post  # noqa: F401 (fixtures)

API = "/api/v1/search"


@pytest.fixture
def search(client_for):
    """search(user, q, **params) -> response JSON (asserts 200)."""

    def run(user, q: str, **params: Any) -> dict[str, Any]:
        resp = client_for(user).get(API, {"q": q, **params})
        assert resp.status_code == 200, resp.content
        return resp.json()

    return run


@pytest.fixture
def bodies(search):
    """bodies(user, q, **params) -> the message bodies found, in result order."""

    def run(user, q: str, **params: Any) -> list[str]:
        return [r["message"]["body"] for r in search(user, q, **params)["results"]]

    return run


@pytest.fixture
def me(make_user):
    return make_user("oncall")


@pytest.fixture
def room(me, make_room):  # noqa: F811 (the fixture imported above)
    return make_room(me, "ops")
