"""The access matrix: every (method, route) under /api/ x every persona x every room kind.

The list of endpoints is read from the URL conf, so a new endpoint (or a new
method on an old one) without a row in MATRIX fails test_matrix_covers_every_endpoint.

The world (built fresh for each test, each persona's request runs in a savepoint
that is rolled back, so every persona sees the same world):

- room_admin ("ada") created #pub (public), #priv (private) and #arch (public,
  archived once its messages, reactions and webhook delivery exist): room admin of
  all three. #arch has the members of #pub, so its column differs from #pub's only
  where archiving changes the answer.
- member ("mia"): member of #pub, #priv, #arch and of the DM. Author of the target
  message in every room, so edit/delete show the author's rights; pinned it in every room.
- peer ("pete"): member of every room; the target of member management calls.
- outsider ("olga"): a plain member of the site, in no room.
- site_admin ("sam", site role admin): in no room. Site admins get room-admin
  powers in rooms they can see (public ones); private rooms and DMs they are
  not in are as invisible to them as to anyone.
- guest ("gus", site role guest): in no room; guests only see rooms they are in.
- bot ("robo"): a bot account, member of #pub and #arch only.
- former ("fred"): was in every room (and reacted), then left each.
- deactivated ("dora"): was in every room, then deactivated by an admin; a
  token issued afterwards must still be refused.
- The DM is {mia, pete, fred, dora}; DMs have no room admins, so the room_admin
  persona is an outsider to it.

Every 404 must be the exact answer a room (or message) id that does not exist gets.

Archived rooms are read-only (chatserver/chat/access.py): nothing is posted, edited,
deleted or reacted to, and nobody new comes in (invites, joins, bots, webhooks,
deliveries). What only narrows access or concerns one person stays open: leaving,
removing members, member roles, read markers, revoking webhooks, disabling bots,
the room's settings - and PATCH {"archived": false}, which is what the matrix
sends to #arch, so unarchiving is covered: room admins and site admins only.
A refusal because of the archive must say so (Because below).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import transaction
from django.urls import URLResolver, get_resolver

from chatserver.accounts import admin_actions
from chatserver.accounts.models import ApiToken, Role, User
from chatserver.chat import actions
from chatserver.integrations import receive as hook_receive
from chatserver.integrations import service as hook_service
from chatserver.siteadmin import service as admin_service

from .conftest import send_json

PERSONAS = ("anonymous", "outsider", "member", "room_admin", "site_admin", "guest", "bot",
            "former", "deactivated")
ROOM_KINDS = ("public", "private", "dm", "archived")
THUMBS = "\N{THUMBS UP SIGN}"
MISSING_ID = 987_654_321
PASSWORD = "correct horse 42"


def row(*statuses: int) -> dict[str, int]:
    assert len(statuses) == len(PERSONAS)
    return dict(zip(PERSONAS, statuses, strict=True))


class Because(int):
    """An expected status whose error message is part of the expectation."""

    message: str

    def __new__(cls, status: int, message: str) -> Because:
        obj = super().__new__(cls, status)
        obj.message = message
        return obj


ARCHIVED = "The room is archived."


def by_kind(public: dict[str, int], private: dict[str, int], dm: dict[str, int],
           archived: dict[str, int] | None = None) -> dict[str, dict[str, int]]:
    """One table per room kind. #arch is #pub archived: by default it answers as #pub."""
    return {"public": public, "private": private, "dm": dm,
            "archived": dict(public) if archived is None else archived}


def frozen(tables: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """A write the archive forbids: whoever #pub lets through gets 403 in #arch,
    saying the room is archived; every other answer stays #pub's."""
    return {**tables, "archived": {
        persona: Because(403, ARCHIVED) if 200 <= status < 300 else status
        for persona, status in tables["public"].items()}}


# Readable by anyone who can see the room.
SEE = by_kind(
    public=row(401, 200, 200, 200, 200, 404, 200, 200, 401),
    private=row(401, 404, 200, 200, 404, 404, 404, 404, 401),
    dm=row(401, 404, 200, 404, 404, 404, 404, 404, 401),
)


def members_only(ok: int, dm_member: int | None = None) -> dict[str, dict[str, int]]:
    """Writes that need membership: visible-but-not-member is 403, invisible is 404."""
    return by_kind(
        public=row(401, 403, ok, ok, 403, 404, ok, 403, 401),
        private=row(401, 404, ok, ok, 404, 404, 404, 404, 401),
        dm=row(401, 404, ok if dm_member is None else dm_member, 404, 404, 404, 404, 404, 401),
    )


def room_admins_only(ok: int) -> dict[str, dict[str, int]]:
    return by_kind(
        public=row(401, 403, 403, ok, ok, 404, 403, 403, 401),
        private=row(401, 404, 403, ok, 404, 404, 404, 404, 401),
        dm=row(401, 404, 403, 404, 404, 404, 404, 404, 401),
    )


def everyone(ok: int) -> dict[str, int]:
    return row(401, ok, ok, ok, ok, ok, ok, ok, 401)


SITE_ADMINS_ONLY = row(401, 403, 403, 403, 200, 403, 403, 403, 401)
ADMIN_ROOM = by_kind(
    public=row(401, 403, 403, 403, 200, 404, 403, 403, 401),
    private=row(401, 404, 403, 403, 200, 404, 404, 404, 401),
    dm=row(401, 404, 403, 404, 404, 404, 404, 404, 401),
)

# (method, route) -> {room kind: {persona: status}}, or {persona: status} for
# endpoints that are not about one room. Each entry says what request it sends.
MATRIX: dict[tuple[str, str], Any] = {
    # Login takes no token: each persona sends its own username and password
    # (anonymous: a user that does not exist). Bots and deactivated users cannot log in.
    ("POST", "api/v1/auth/login"): row(401, 200, 200, 200, 200, 200, 401, 200, 401),
    ("POST", "api/v1/auth/logout"): everyone(204),
    ("GET", "api/v1/users/me"): everyone(200),
    ("PATCH", "api/v1/users/me"): everyone(200),  # one's own display name and time zone
    ("GET", "api/v1/users"): everyone(200),
    ("POST", "api/v1/users"): row(401, 403, 403, 403, 201, 403, 403, 403, 401),
    ("GET", "api/v1/users/<int:user_id>"): everyone(200),  # peer's profile
    ("PATCH", "api/v1/users/<int:user_id>"): row(401, 403, 403, 403, 200, 403, 403, 403, 401),
    ("GET", "api/v1/rooms"): everyone(200),
    ("POST", "api/v1/rooms"): row(401, 201, 201, 201, 201, 403, 201, 201, 401),
    # A DM with peer: guests may only DM people they share a room with.
    ("POST", "api/v1/dms"): row(401, 200, 200, 200, 200, 403, 200, 200, 401),
    ("GET", "api/v1/admin/audit"): SITE_ADMINS_ONLY,
    # Searches only what the caller may read (tests/search/test_access.py).
    ("GET", "api/v1/search"): everyone(200),
    ("GET", "api/v1/admin/audit/export"): SITE_ADMINS_ONLY,
    ("GET", "api/v1/admin/users"): SITE_ADMINS_ONLY,
    # API tokens of an account (the bot persona's; its own token is the one deleted).
    ("GET", "api/v1/admin/users/<int:user_id>/tokens"): SITE_ADMINS_ONLY,
    ("POST", "api/v1/admin/users/<int:user_id>/tokens"):
        row(401, 403, 403, 403, 201, 403, 403, 403, 401),
    ("DELETE", "api/v1/admin/users/<int:user_id>/tokens/<int:token_id>"):
        row(401, 403, 403, 403, 204, 403, 403, 403, 401),
    ("GET", "api/v1/admin/invites"): SITE_ADMINS_ONLY,
    ("POST", "api/v1/admin/invites"): row(401, 403, 403, 403, 201, 403, 403, 403, 401),
    ("DELETE", "api/v1/admin/invites/<int:invite_id>"):
        row(401, 403, 403, 403, 204, 403, 403, 403, 401),
    ("GET", "api/v1/admin/rooms"): SITE_ADMINS_ONLY,
    ("GET", "api/v1/admin/settings"): SITE_ADMINS_ONLY,
    ("PATCH", "api/v1/admin/settings"): SITE_ADMINS_ONLY,
    # Takes no credentials: the invite token in the body is one (world["invite"]).
    ("POST", "api/v1/auth/accept-invite"): row(201, 201, 201, 201, 201, 201, 201, 201, 201),
    # Site admins join / export any public or private room (never a DM); everyone
    # else gets what the room's other doors answer them: 404 unseen, 403 seen.
    ("POST", "api/v1/admin/rooms/<int:room_id>/join"): frozen(ADMIN_ROOM),
    ("GET", "api/v1/admin/rooms/<int:room_id>/export"): ADMIN_ROOM,
    ("GET", "api/v1/schema/"): row(200, 200, 200, 200, 200, 200, 200, 200, 401),
    ("GET", "api/v1/docs/"): row(200, 200, 200, 200, 200, 200, 200, 200, 401),
    # Room endpoints.
    ("GET", "api/v1/rooms/<int:room_id>"): SEE,
    # A topic change; in #arch, unarchiving ({"archived": false}).
    ("PATCH", "api/v1/rooms/<int:room_id>"): room_admins_only(200),
    # Members joining again: a no-op, archived or not.
    ("POST", "api/v1/rooms/<int:room_id>/join"): by_kind(
        public=row(401, 200, 200, 200, 200, 404, 200, 200, 401),
        private=row(401, 404, 200, 200, 404, 404, 404, 404, 401),
        dm=row(401, 404, 200, 404, 404, 404, 404, 404, 401),
        archived=row(401, Because(403, ARCHIVED), 200, 200, Because(403, ARCHIVED), 404, 200,
                     Because(403, ARCHIVED), 401),
    ),
    ("POST", "api/v1/rooms/<int:room_id>/leave"): members_only(204),
    ("GET", "api/v1/rooms/<int:room_id>/members"): SEE,
    # Invite a user who is in no room: any member of a (non-DM) room may, site
    # admins may in public rooms, bots never; a DM gets a new DM instead.
    ("POST", "api/v1/rooms/<int:room_id>/members"): frozen(by_kind(
        public=row(401, 403, 200, 200, 200, 404, 403, 403, 401),
        private=row(401, 404, 200, 200, 404, 404, 404, 404, 401),
        dm=row(401, 404, 403, 404, 404, 404, 404, 404, 401),
    )),
    ("DELETE", "api/v1/rooms/<int:room_id>/members/<int:user_id>"): room_admins_only(204),
    ("PATCH", "api/v1/rooms/<int:room_id>/members/<int:user_id>"): room_admins_only(204),
    ("GET", "api/v1/rooms/<int:room_id>/messages"): SEE,
    ("POST", "api/v1/rooms/<int:room_id>/messages"): frozen(members_only(201)),
    ("POST", "api/v1/rooms/<int:room_id>/read"): members_only(200),
    # Message endpoints, on the target message (author: member).
    ("GET", "api/v1/messages/<int:message_id>"): SEE,
    ("PATCH", "api/v1/messages/<int:message_id>"): frozen(by_kind(
        public=row(401, 403, 200, 403, 403, 404, 403, 403, 401),
        private=row(401, 404, 200, 403, 404, 404, 404, 404, 401),
        dm=row(401, 404, 200, 404, 404, 404, 404, 404, 401),
    )),
    ("DELETE", "api/v1/messages/<int:message_id>"): frozen(by_kind(
        public=row(401, 403, 204, 204, 204, 404, 403, 403, 401),
        private=row(401, 404, 204, 204, 404, 404, 404, 404, 401),
        dm=row(401, 404, 204, 404, 404, 404, 404, 404, 401),
    )),
    ("GET", "api/v1/messages/<int:message_id>/replies"): SEE,
    ("POST", "api/v1/messages/<int:message_id>/reactions"): frozen(members_only(201)),
    # Every member (and former member) reacted with a thumbs up before the test.
    ("DELETE", "api/v1/messages/<int:message_id>/reactions/<str:emoji>"):
        frozen(members_only(204)),
    # Pins, on the target message, which the member pinned before the test (so a
    # POST answers 200: pinning again changes nothing). Members pin, as they react;
    # an archived room keeps its pins and refuses changes.
    ("GET", "api/v1/rooms/<int:room_id>/pins"): SEE,
    ("POST", "api/v1/rooms/<int:room_id>/messages/<int:message_id>/pin"):
        frozen(members_only(200)),
    ("DELETE", "api/v1/rooms/<int:room_id>/messages/<int:message_id>/pin"):
        frozen(members_only(204)),
    # Webhooks: room admins and site admins (in rooms they can see); DMs have none.
    ("GET", "api/v1/rooms/<int:room_id>/webhooks"): room_admins_only(200),
    ("POST", "api/v1/rooms/<int:room_id>/webhooks"): frozen(room_admins_only(201)),
    ("DELETE", "api/v1/rooms/<int:room_id>/webhooks/<int:hook_id>"): room_admins_only(204),
    ("GET", "api/v1/rooms/<int:room_id>/webhooks/<int:hook_id>/deliveries"):
        room_admins_only(200),
    ("POST", "api/v1/rooms/<int:room_id>/webhooks/<int:hook_id>/deliveries/<int:delivery_id>"
             "/replay"): frozen(room_admins_only(200)),
    # Bots (bots/views.py); the bot is the "bot" persona's account.
    ("GET", "api/v1/bots"): everyone(200),
    ("PATCH", "api/v1/bots/<int:bot_id>"): SITE_ADMINS_ONLY,
    ("GET", "api/v1/rooms/<int:room_id>/bots"): SEE,
    ("PUT", "api/v1/rooms/<int:room_id>/bots/<int:bot_id>"): frozen(room_admins_only(200)),
    ("DELETE", "api/v1/rooms/<int:room_id>/bots/<int:bot_id>"): room_admins_only(204),
    # Admin data of the built-in bots (bots/builtin/api.py); items: an id that does not exist.
    **{(method, f"api/v1/admin/bots/{kind}"): SITE_ADMINS_ONLY if method == "GET"
       else row(401, 403, 403, 403, 201, 403, 403, 403, 401)
       for kind in ("rotations", "runbook-actions", "status-endpoints", "hook-tokens")
       for method in ("GET", "POST")},
    **{(method, f"api/v1/admin/bots/{kind}/<int:item_id>"):
       row(401, 403, 403, 403, 404, 403, 403, 403, 401)
       for kind in ("rotations", "runbook-actions", "status-endpoints", "hook-tokens")
       for method in ("GET", "PATCH", "DELETE") if (kind, method) != ("hook-tokens", "PATCH")},
}

BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "api/v1/users/<int:user_id>"): {"display_name": "Pete P."},
    ("PATCH", "api/v1/users/me"): {"timezone": "Europe/Paris"},
    ("POST", "api/v1/users"): {"username": "newuser", "password": "a long enough pass 9",
                              "display_name": "New"},
    ("POST", "api/v1/rooms"): {"name": "fresh", "visibility": "public"},
    ("PATCH", "api/v1/rooms/<int:room_id>"): {"topic": "changed"},
    ("PATCH", "api/v1/rooms/<int:room_id>/members/<int:user_id>"): {"role": "admin"},
    ("POST", "api/v1/rooms/<int:room_id>/messages"): {"body": "hi"},
    ("POST", "api/v1/rooms/<int:room_id>/read"): {"seq": 1},
    ("PATCH", "api/v1/messages/<int:message_id>"): {"body": "edited"},
    ("POST", "api/v1/messages/<int:message_id>/reactions"): {"emoji": "\N{PARTY POPPER}"},
    ("POST", "api/v1/rooms/<int:room_id>/webhooks"): {"name": "matrix", "kind": "incoming"},
    ("PATCH", "api/v1/bots/<int:bot_id>"): {"paused": False},
    ("POST", "api/v1/admin/invites"): {"role": "member", "expires_in_hours": 24},
    ("POST", "api/v1/admin/users/<int:user_id>/tokens"): {"name": "matrix"},
    ("PATCH", "api/v1/admin/settings"): {"retention_days": 30},
    ("POST", "api/v1/admin/bots/rotations"): {"name": "matrix", "starts_on": "2024-01-01"},
    ("POST", "api/v1/admin/bots/runbook-actions"): {"name": "matrix", "argv": ["/bin/true"]},
    ("POST", "api/v1/admin/bots/status-endpoints"): {"name": "matrix",
                                                     "url": "https://example.com/health"},
    ("POST", "api/v1/admin/bots/hook-tokens"): {"bot": "help"},
    **{("PATCH", f"api/v1/admin/bots/{kind}/<int:item_id>"): {"enabled": False}
       for kind in ("rotations", "runbook-actions", "status-endpoints")},
}


def is_room_endpoint(route: str) -> bool:
    return "<int:room_id>" in route or "<int:message_id>" in route


def api_endpoints() -> set[tuple[str, str]]:
    """Every (METHOD, route) served under /api/, read from the URL conf."""
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
                continue
            route = prefix + str(p.pattern)
            if not route.startswith("api/"):
                continue
            cls = getattr(p.callback, "view_class", None) or getattr(p.callback, "cls", None)
            assert cls is not None, f"{route} is not a class-based view: add it to the matrix"
            for method in cls.http_method_names:
                if method not in ("options", "head") and hasattr(cls, method):
                    found.add((method.upper(), route))

    walk(get_resolver().url_patterns, "")
    return found


def test_matrix_covers_every_endpoint():
    served = api_endpoints()
    missing = sorted(served - set(MATRIX))
    stale = sorted(set(MATRIX) - served)
    assert missing == [], f"endpoints without an access-matrix entry: {missing}"
    assert stale == [], f"matrix entries for endpoints that do not exist: {stale}"
    for key, spec in MATRIX.items():
        kinds = set(spec) if is_room_endpoint(key[1]) else {"-"}
        assert kinds in ({"-"}, set(ROOM_KINDS)), key
        tables = [spec[k] for k in ROOM_KINDS] if is_room_endpoint(key[1]) else [spec]
        for table in tables:
            assert tuple(table) == PERSONAS, key


def _user(username: str, **kw) -> User:
    user = User(username=username, display_name=username.title(),
                password=MD5PasswordHasher().encode(PASSWORD, "salt"), **kw)
    user.save()
    user.raw_token = ApiToken.issue(user)[1]  # type: ignore[attr-defined]
    return user


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once per module inside a transaction that is rolled back at the end;
    each test runs in a savepoint inside it (the `db` fixture)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _build_world() -> dict[str, Any]:
    ada = _user("ada")
    mia = _user("mia")
    pete = _user("pete")
    olga = _user("olga")
    sam = _user("sam", role=Role.ADMIN)
    gus = _user("gus", role=Role.GUEST)
    robo = _user("robo", is_bot=True)
    bot_token_id = ApiToken.objects.get(user=robo).id
    fred = _user("fred")
    dora = _user("dora")
    nina = _user("nina")  # invited by the members POST

    pub = actions.create_room(actor=ada, name="pub", visibility="public")
    actions.invite(actor=ada, room_id=pub.id, user_ids=[mia.id, pete.id, robo.id, fred.id, dora.id])
    priv = actions.create_room(actor=ada, name="priv", visibility="private")
    actions.invite(actor=ada, room_id=priv.id, user_ids=[mia.id, pete.id, fred.id, dora.id])
    dm = actions.open_dm(actor=mia, user_ids=[pete.id, fred.id, dora.id])
    arch = actions.create_room(actor=ada, name="arch", visibility="public")
    actions.invite(actor=ada, room_id=arch.id, user_ids=[mia.id, pete.id, robo.id, fred.id,
                                                         dora.id])

    rooms = {"public": pub, "private": priv, "dm": dm, "archived": arch}
    room_members = {
        "public": [ada, mia, pete, robo, fred, dora],
        "private": [ada, mia, pete, fred, dora],
        "dm": [mia, pete, fred, dora],
        "archived": [ada, mia, pete, robo, fred, dora],
    }
    targets = {}
    for kind, room in rooms.items():
        msg = actions.post_message(actor=mia, room_id=room.id, body="target").message
        actions.post_message(actor=pete, room_id=room.id, body="a reply", thread_id=msg["id"])
        for user in room_members[kind]:
            actions.add_reaction(actor=user, message_id=msg["id"], emoji=THUMBS)
        actions.pin_message(actor=mia, room_id=room.id, message_id=msg["id"])
        targets[kind] = msg["id"]
    for room in rooms.values():
        actions.leave_room(actor=fred, room_id=room.id)
    admin_actions.update_user(actor=sam, user_id=dora.id, changes={"is_active": False})
    dora.refresh_from_db()
    # The admin action deleted dora's tokens; a token that exists anyway (say,
    # restored from a backup) must be refused because the user is inactive.
    dora.raw_token = ApiToken.issue(dora)[1]  # type: ignore[attr-defined]

    # An incoming hook with one delivery in each room that can have one (DMs cannot).
    hooks, deliveries = {"dm": MISSING_ID}, {"dm": MISSING_ID}
    for kind in ("public", "private", "archived"):
        hook, token = hook_service.create_webhook(actor=ada, room_id=rooms[kind].id,
                                                  data={"name": "ci"})
        hooks[kind] = hook.id
        deliveries[kind] = hook_receive.receive(
            token=token, fmt="slack", body=b'{"text": "from ci"}',
            content_type="application/json", meta={}).delivery.id
    # Archived last: everything above happened while #arch was open.
    actions.update_room(actor=ada, room_id=arch.id, changes={"archived": True})

    invite, invite_token = admin_service.create_invite(actor=sam, data={"role": "member"})

    personas = {"anonymous": None, "outsider": olga, "member": mia, "room_admin": ada,
                "site_admin": sam, "guest": gus, "bot": robo, "former": fred,
                "deactivated": dora}
    return {"personas": personas, "rooms": rooms, "targets": targets, "peer": pete,
            "newcomer": nina, "hooks": hooks, "deliveries": deliveries,
            "invite": invite_token, "invite_id": invite.id, "bot_token_id": bot_token_id}


def build_request(key: tuple[str, str], world, kind: str | None, persona: str, *,
                  missing: bool = False) -> tuple[str, Any]:
    method, route = key
    path = "/" + route
    if "<int:room_id>" in route:
        path = path.replace("<int:room_id>",
                            str(MISSING_ID if missing else world["rooms"][kind].id))
    if "<int:message_id>" in route:
        path = path.replace("<int:message_id>",
                            str(MISSING_ID if missing else world["targets"][kind]))
    if "/tokens" in route:
        path = path.replace("<int:user_id>", str(world["personas"]["bot"].id))
        path = path.replace("<int:token_id>", str(world["bot_token_id"]))
    path = path.replace("<int:user_id>", str(world["peer"].id))
    if kind is not None:
        path = path.replace("<int:hook_id>", str(world["hooks"][kind]))
        path = path.replace("<int:delivery_id>", str(world["deliveries"][kind]))
    path = path.replace("<int:bot_id>", str(world["personas"]["bot"].id))
    path = path.replace("<int:item_id>", str(MISSING_ID))
    path = path.replace("<str:emoji>", quote(THUMBS))
    path = path.replace("<int:invite_id>", str(world["invite_id"]))
    body = BODIES.get(key)
    if key == ("PATCH", "api/v1/rooms/<int:room_id>") and kind == "archived":
        body = {"archived": False}
    elif key == ("POST", "api/v1/auth/login"):
        user = world["personas"][persona]
        body = {"username": user.username if user else "nobody", "password": PASSWORD}
    elif key == ("POST", "api/v1/rooms/<int:room_id>/members"):
        body = {"user_id": world["newcomer"].id}
    elif key == ("POST", "api/v1/auth/accept-invite"):
        body = {"token": world["invite"], "username": "invitee",
                "password": "a long enough pass 9"}
    elif key == ("POST", "api/v1/dms"):
        body = {"user_ids": [world["peer"].id]}
    elif key == ("GET", "api/v1/search"):
        path += "?q=target"
    return path, body


def call(client_for, world, key, kind, persona, *, missing=False):
    path, body = build_request(key, world, kind, persona, missing=missing)
    client = client_for(world["personas"][persona])
    if key in (("POST", "api/v1/auth/login"), ("POST", "api/v1/auth/accept-invite")):
        client = client_for(None)
    sid = transaction.savepoint()
    try:
        return send_json(client, key[0], path, body)
    finally:
        transaction.savepoint_rollback(sid)


EXPECTED_CODES = {401: {"not_authenticated", "bad_credentials"}, 403: {"forbidden"},
                  404: {"not_found"}}

CASES = [
    pytest.param(key, kind, id=f"{key[0]} {key[1].removeprefix('api/v1/')} [{kind or '-'}]")
    for key in MATRIX
    for kind in (ROOM_KINDS if is_room_endpoint(key[1]) else (None,))
]


@pytest.mark.parametrize(("key", "kind"), CASES)
def test_access(key, kind, world, db, client_for):
    expected = MATRIX[key][kind] if kind else MATRIX[key]
    actual: dict[str, int] = {}
    problems: list[str] = []
    for persona in PERSONAS:
        resp = call(client_for, world, key, kind, persona)
        actual[persona] = resp.status_code
        if isinstance(expected[persona], Because) and resp.status_code == expected[persona]:
            message = resp.json()["error"]["message"]
            if message != expected[persona].message:
                problems.append(f"{persona}: {resp.status_code} says {message!r}")
        if resp.status_code in EXPECTED_CODES and resp["Content-Type"] == "application/json":
            code = resp.json()["error"]["code"]
            if code not in EXPECTED_CODES[resp.status_code]:
                problems.append(f"{persona}: {resp.status_code} with code {code!r}")
        if (resp.status_code == 401 and key != ("POST", "api/v1/auth/login")
                and resp["Content-Type"] == "application/json"
                and resp.json()["error"]["code"] != "not_authenticated"):
            problems.append(f"{persona}: 401 is not not_authenticated")
        if kind is None:
            continue
        # An invisible room is indistinguishable from one that does not exist.
        if resp.status_code == 404 or persona == "member":
            ghost = call(client_for, world, key, kind, persona, missing=True)
            if ghost.status_code != 404:
                problems.append(f"{persona}: a missing id answered {ghost.status_code}")
            elif resp.status_code == 404 and resp.json() != ghost.json():
                problems.append(f"{persona}: 404 {resp.json()} differs from {ghost.json()}")
    assert actual == expected
    assert problems == []


def test_login_error_codes(world, db, client_for):
    """Bots and deactivated users get the same answer as a wrong password."""
    key = ("POST", "api/v1/auth/login")
    for persona in ("anonymous", "bot", "deactivated"):
        resp = call(client_for, world, key, None, persona)
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == "bad_credentials"
