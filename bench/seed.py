"""Seed users, tokens, rooms and memberships for one benchmark run.

    python -m bench.seed PLAN.json OUT.json

Runs inside Django (the environment chooses the database). Users and their
ApiToken digests are bulk-created with the ORM (no password hashing);
rooms are made with actions.create_room and members added with
actions.invite in batches of at most 1000, so every room's event log and
every user's stream stay consistent with what a real server would have.

PLAN: {"users": N, "rooms": [[member_index, ...], ...]}
OUT:  {"admin_id": id,
       "users": [{"id", "token", "stream_seq"}, ...],   # in plan order
       "rooms": [{"id", "last_seq", "members": [index, ...]}, ...],
       "seconds": float}
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time


def seed(plan: dict) -> dict:
    from django.db import transaction

    from chatserver.accounts.models import ApiToken, Role, User, hash_token
    from chatserver.chat import actions
    from chatserver.chat.models import Room

    t0 = time.monotonic()
    n = int(plan["users"])
    admin = User.objects.create(username="bench-admin", display_name="Bench admin",
                                role=Role.OWNER, password="!")
    with transaction.atomic():
        users = User.objects.bulk_create(
            [User(username=f"bench{i:05d}", display_name=f"Bench {i}", password="!")
             for i in range(n)],
            batch_size=1000,
        )
        raws = [ApiToken.PREFIX + secrets.token_urlsafe(32) for _ in range(n)]
        ApiToken.objects.bulk_create(
            [ApiToken(user=u, name="bench", digest=hash_token(raw))
             for u, raw in zip(users, raws, strict=True)],
            batch_size=1000,
        )
    ids = [u.id for u in users]
    assert all(ids), "bulk_create did not return primary keys"
    rooms = []
    for j, members in enumerate(plan["rooms"]):
        room = actions.create_room(actor=admin, name=f"bench-{j}", visibility="public")
        member_ids = [ids[i] for i in members]
        for k in range(0, len(member_ids), 1000):
            actions.invite(actor=admin, room_id=room.id, user_ids=member_ids[k:k + 1000])
        rooms.append((room.id, members))
        if (j + 1) % 50 == 0:
            print(f"  seeded {j + 1}/{len(plan['rooms'])} rooms", flush=True)
    last = dict(Room.objects.filter(id__in=[r for r, _ in rooms]).values_list("id", "last_seq"))
    stream = dict(User.objects.filter(id__in=ids).values_list("id", "stream_seq"))
    return {
        "admin_id": admin.id,
        "users": [{"id": uid, "token": raw, "stream_seq": stream[uid]}
                  for uid, raw in zip(ids, raws, strict=True)],
        "rooms": [{"id": rid, "last_seq": last[rid], "members": members}
                  for rid, members in rooms],
        "seconds": round(time.monotonic() - t0, 2),
    }


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")
    import django

    django.setup()
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    out = seed(plan)
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)
    print(f"  seeded {len(out['users'])} users, {len(out['rooms'])} rooms "
          f"in {out['seconds']} s", flush=True)


if __name__ == "__main__":
    main()
