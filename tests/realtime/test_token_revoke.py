"""Revoking a bot's API token (DELETE /admin/users/{id}/tokens/{token_id}) also ends
the sockets opened with it: the account's sockets are closed with 1012 (reconnect
and resume); the revoked token is then refused with 4401, another token of the
same bot connects again."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from chatserver.accounts.models import ApiToken
from tests.wsclient import WS

from .helpers import Api, recv_skip, wait_closed

pytestmark = pytest.mark.live


async def test_revoking_a_token_closes_its_socket_and_keeps_it_out(live, make_user, users):
    (admin,) = await users("admin", role="admin")
    bot = await sync_to_async(make_user)("ext-bot", is_bot=True)
    _, other = await sync_to_async(ApiToken.issue)(bot, "spare")
    revoked_id = await sync_to_async(lambda: ApiToken.objects.filter(user=bot)
                                     .exclude(name="spare").get().id)()

    on_revoked = await WS.connect(live, bot.raw_token)
    on_other = await WS.connect(live, other)
    for ws in (on_revoked, on_other):
        await ws.send({"type": "ping"})
        assert await recv_skip(ws) == {"type": "pong"}

    async with Api(live, admin) as api:
        await api.call("DELETE", f"/admin/users/{bot.id}/tokens/{revoked_id}")
    for ws in (on_revoked, on_other):
        assert await wait_closed(ws, timeout=5) == 1012

    again = await WS.connect(live, bot.raw_token)
    assert await wait_closed(again, timeout=3) == 4401
    back = await WS.connect(live, other)
    await back.send({"type": "ping"})
    assert await recv_skip(back) == {"type": "pong"}
    await back.close()
