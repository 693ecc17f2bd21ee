"""Schemathesis against the live server's own OpenAPI schema: no 5xx, and every
response matches what /api/v1/schema/ says (status code, content type, body).

Each operation gets a bounded number of generated requests, sent once with a
plain member's token and once with a site admin's, so authorization paths past
401 are exercised too. Path ids are drawn partly from a small real world (a
room, a message, a webhook, a bot) so requests reach the code behind the 404.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chatserver.chat import actions
from chatserver.integrations import receive as hook_receive
from chatserver.integrations import service as hook_service
from chatserver.siteadmin import service as admin_service

pytestmark = [pytest.mark.live]

MAX_EXAMPLES = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _openapi() -> dict[str, Any]:
    """The schema the server serves at /api/v1/schema/, built in-process at
    collection time so each operation becomes its own test."""
    from drf_spectacular.generators import SchemaGenerator

    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True),
                                 default=str))


schema = schemathesis.openapi.from_dict(_openapi())


@pytest.fixture
def fuzz_world(live):
    """A small committed world whose ids the generated requests partly use."""
    from tests.realtime.conftest import _quick_user

    member = _quick_user("fuzz_member")
    peer = _quick_user("fuzz_peer")
    admin = _quick_user("fuzz_admin", role="admin")
    robo = _quick_user("fuzz_bot", is_bot=True)
    room = actions.create_room(actor=member, name="fuzz")
    actions.invite(actor=member, room_id=room.id, user_ids=[peer.id, robo.id])
    msg = actions.post_message(actor=member, room_id=room.id, body="fuzz target").message
    actions.add_reaction(actor=member, message_id=msg["id"], emoji="+1")
    hook, token = hook_service.create_webhook(actor=member, room_id=room.id,
                                              data={"name": "fuzz"})
    delivery = hook_receive.receive(token=token, fmt="slack", body=b'{"text": "from ci"}',
                                    content_type="application/json", meta={}).delivery
    invite, _raw = admin_service.create_invite(actor=admin, data={"role": "member"})
    return {
        "tokens": {"member": member.raw_token, "admin": admin.raw_token},
        "ids": {"room_id": room.id, "message_id": msg["id"], "user_id": peer.id,
                "bot_id": robo.id, "hook_id": hook.id, "delivery_id": delivery.id,
                "invite_id": invite.id},
    }


def use_real_ids(case, ids: dict[str, int]) -> None:
    """Swap about half of the generated integer ids for ids that exist, so
    requests get past the 404 to validation and permission code."""
    for name, value in list((case.path_parameters or {}).items()):
        if name in ids and isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = ids[name]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_schema(case, live, fuzz_world):
    use_real_ids(case, fuzz_world["ids"])
    for who in ("member", "admin"):
        token = fuzz_world["tokens"][who]
        case.call_and_validate(base_url=live.url, headers={"Authorization": f"Bearer {token}"},
                               checks=CHECKS, timeout=10)
