"""Tokens stay out of a real server's logs, access logs included.

An incoming webhook's URL is its credential (/hooks/<token>). Each ASGI server is
run with its access log on (uvicorn at UVICORN_LOG_LEVEL=info; daphne writes one
by default), gets deliveries that succeed and fail (Django logs 4xx answers with
their path) plus Bearer requests, and its whole output is searched for the tokens.
The lines about the hook must be there, with the token cut to its 8-character hint.
"""

from __future__ import annotations

import httpx
import pytest

from chatserver.accounts.models import ApiToken, User
from chatserver.chat import actions
from chatserver.integrations import service

pytestmark = pytest.mark.live


def _world() -> tuple[str, str]:
    ada = User.objects.create(username="ada", display_name="Ada")
    room = actions.create_room(actor=ada, name="builds")
    _, hook_token = service.create_webhook(actor=ada, room_id=room.id, data={"name": "CI"})
    _, api_token = ApiToken.issue(ada)
    return hook_token, api_token


@pytest.mark.parametrize("server_kind", ["uvicorn", "daphne"])
def test_tokens_never_reach_a_server_log(start_server, server_kind):
    server = start_server(env={"UVICORN_LOG_LEVEL": "info"}, server=server_kind)
    hook_token, api_token = _world()
    hook = f"/hooks/{hook_token}"
    with httpx.Client(base_url=server.url, timeout=10) as c:
        answers = [
            c.post(hook, json={"text": "build 7 green"}).status_code,
            c.post(hook, content=b"{not json",
                   headers={"Content-Type": "application/json"}).status_code,
            c.get(hook).status_code,
            c.post(f"{hook}/grafana?source=ci", json={"alerts": "no"}).status_code,
            c.get("/api/v1/users/me",
                  headers={"Authorization": f"Bearer {api_token}"}).status_code,
            c.get("/api/v1/rooms/987654321",
                  headers={"Authorization": f"Bearer {api_token}"}).status_code,
        ]
    assert answers == [200, 400, 405, 400, 200, 404]
    server.stop()  # flush everything it wrote
    assert server.log_path is not None
    log = server.log_path.read_text(errors="replace")
    assert hook_token not in log and hook_token[8:] not in log
    assert api_token not in log
    hinted = [line for line in log.splitlines() if f"/hooks/{hook_token[:8]}" in line]
    # The four deliveries in the access log, and Django's warnings for the three 4xx.
    assert len(hinted) == 7, log
