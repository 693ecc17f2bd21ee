"""Who may ask about and who may run a command. Fail closed: any error denies.

Principals are checked against database identities (the caller's User, the
room's Membership), never against names or globs.
"""

from __future__ import annotations

import logging
from typing import Any

from chatserver.accounts.models import Role
from chatserver.chat.access import is_room_admin
from chatserver.chat.models import Visibility

from .sdk import Command, Principals

log = logging.getLogger(__name__)

ROLE_RANK = {Role.GUEST: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Args(dict):
    """The parsed arguments, readable as a["env"] or a.env in predicates."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def matches(principal: str, caller, room, membership) -> bool:
    if not caller.is_active or caller.is_bot:
        return False
    if principal == "everyone":
        return True
    if principal == "room:member":
        return membership is not None
    if principal == "room:admin":
        return room is not None and room.visibility != Visibility.DIRECT and is_room_admin(
            caller, membership)
    if principal == "site:admin":
        return bool(caller.is_site_admin)
    if principal == "dm":
        return room is not None and room.visibility == Visibility.DIRECT
    kind, _, value = principal.partition(":")
    if kind == "role":
        return ROLE_RANK.get(caller.role, -1) >= ROLE_RANK[Role(value)]
    if kind == "user":
        return caller.id == int(value)
    return False  # unknown principals never match (declarations are checked anyway)


def allowed(principals: Principals, caller, room, membership) -> bool:
    return any(matches(p, caller, room, membership) for p in principals)


def describe(principals: Principals) -> str:
    return " or ".join(principals)


def may_ask(cmd: Command, caller, room, membership) -> bool:
    try:
        return allowed(cmd.ask, caller, room, membership) and _room_ok(cmd, room)
    except Exception:
        log.exception("ask policy of %s failed: denied", cmd.name)
        return False


def _room_ok(cmd: Command, room) -> bool:
    return not cmd.rooms or (room is not None and (
        room.name.lower() in cmd.rooms or str(room.id) in cmd.rooms))


def denial(cmd: Command, caller, room, membership, args: dict[str, Any] | None) -> str | None:
    """Why `caller` may not run `cmd` with `args` here, or None when allowed.

    With args=None (help listings) the argument predicates are not evaluated."""
    try:
        if not caller.is_active or caller.is_bot:
            return "Bots do not take commands from bots."
        if not _room_ok(cmd, room):
            return f"`{cmd.name}` only runs in {', '.join('#' + r for r in cmd.rooms)}."
        if not allowed(cmd.ask, caller, room, membership):
            return f"You may not use `{cmd.name}` (needs {describe(cmd.ask)})."
        if not cmd.readonly and not allowed(cmd.run, caller, room, membership):
            return f"`{cmd.name}` needs {describe(cmd.run)}."
        if args is None:
            return None
        wrapped = Args(args)
        for predicate, principals in cmd.when:
            if predicate(wrapped) and not allowed(principals, caller, room, membership):
                return f"`{cmd.name}` with these arguments needs {describe(principals)}."
        return None
    except Exception:
        log.exception("policy of %s failed: denied", cmd.name)
        return f"The permission check of `{cmd.name}` failed, so it is refused."


def needs_approval(cmd: Command, args: dict[str, Any]) -> bool:
    """True for dangerous calls; a predicate that raises counts as dangerous."""
    if isinstance(cmd.approve, bool):
        return cmd.approve
    try:
        return bool(cmd.approve(Args(args)))
    except Exception:
        log.exception("approve predicate of %s failed: approval required", cmd.name)
        return True
