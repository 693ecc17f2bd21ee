"""Read a Slack export archive into an import Dataset.

A Slack export zip holds users.json, channels.json (public channels; groups.json,
mpims.json and dms.json for the others when the export includes them) and, per
channel, a folder of per-day JSON files with that day's messages. Threads are
replies whose thread_ts differs from their own ts; <@U123> user mentions become
@username, <#C123|name> becomes #name, <url|label> becomes label (url).
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

from .exporter import Dataset, ImportError_, _clean_username

USER_REF = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
CHANNEL_REF = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
SPECIAL_REF = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
LINK_REF = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")
BOT_USER = "slack-bot"


def _json(z: zipfile.ZipFile, name: str, default: Any) -> Any:
    try:
        with z.open(name) as f:
            return json.load(f)
    except KeyError:
        return default
    except ValueError as exc:
        raise ImportError_(f"{name}: not JSON ({exc})") from None


def _ts(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        raise ImportError_(f"bad Slack timestamp {value!r}") from None


def convert_text(text: str, names: dict[str, str]) -> str:
    text = USER_REF.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    text = CHANNEL_REF.sub(lambda m: "#" + m.group(1), text)
    text = SPECIAL_REF.sub(lambda m: "@room" if m.group(1) != "here" else "@here", text)
    text = LINK_REF.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2)
                        else m.group(1), text)
    return html.unescape(text)


def read_archive(path) -> Dataset:
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportError_(f"not a zip archive: {exc}") from None
    with z:
        return _read(z)


def _read(z: zipfile.ZipFile) -> Dataset:
    ds = Dataset()
    users = _json(z, "users.json", None)
    if not isinstance(users, list):
        raise ImportError_("users.json is missing or not a list")
    names: dict[str, str] = {}
    for u in users:
        if not isinstance(u, dict) or "id" not in u:
            raise ImportError_("users.json: every user needs an id")
        profile = u.get("profile") or {}
        username = _clean_username(str(u.get("name") or u["id"]))
        names[u["id"]] = username
        ds.users[u["id"]] = {
            "username": username,
            "display_name": profile.get("display_name") or profile.get("real_name")
            or u.get("real_name") or "",
            "role": "member", "is_bot": bool(u.get("is_bot")),
            "is_active": not u.get("deleted", False),
            "timezone": u.get("tz") or "",  # Slack's profile zone, kept when it is known
        }
    kinds = (("channels.json", "public"), ("groups.json", "private"),
             ("mpims.json", "direct"), ("dms.json", "direct"))
    folders = {name.split("/", 1)[0] for name in z.namelist() if "/" in name}
    for listing, visibility in kinds:
        channels = _json(z, listing, [])
        if not isinstance(channels, list):
            raise ImportError_(f"{listing} is not a list")
        for ch in channels:
            if not isinstance(ch, dict) or "id" not in ch:
                raise ImportError_(f"{listing}: every channel needs an id")
            folder = ch.get("name") if ch.get("name") in folders else ch["id"]
            _read_channel(z, ds, ch, visibility, str(folder), names)
    return ds


def _read_channel(z: zipfile.ZipFile, ds: Dataset, ch: dict[str, Any], visibility: str,
                  folder: str, names: dict[str, str]) -> None:
    cid = ch["id"]
    ds.rooms[cid] = {
        "name": ch.get("name") or cid, "visibility": visibility,
        "topic": ((ch.get("topic") or {}).get("value") or
                  (ch.get("purpose") or {}).get("value") or "")[:500],
        "archived": bool(ch.get("is_archived")),
    }
    creator = ch.get("creator")
    for uid in ch.get("members") or []:
        if uid in ds.users:
            ds.memberships.append({"room": cid, "user": uid,
                                   "role": "admin" if uid == creator else "member"})
    day_files = sorted(n for n in z.namelist()
                       if n.startswith(folder + "/") and n.endswith(".json"))
    for name in day_files:
        day = _json(z, name, [])
        if not isinstance(day, list):
            raise ImportError_(f"{name} is not a list of messages")
        for m in day:
            _read_message(ds, cid, m, names)


def _read_message(ds: Dataset, cid: str, m: Any, names: dict[str, str]) -> None:
    if not isinstance(m, dict) or m.get("type") != "message" or "ts" not in m:
        return
    if m.get("subtype") in ("channel_join", "channel_leave", "group_join", "group_leave",
                            "channel_topic", "channel_purpose", "channel_name"):
        return
    author = m.get("user")
    if author not in ds.users:
        author = BOT_USER
        ds.users.setdefault(BOT_USER, {"username": BOT_USER, "display_name": "Slack bot",
                                       "role": "member", "is_bot": True, "is_active": True})
    text = convert_text(str(m.get("text") or ""), names)
    if not text.strip():
        return
    key = f"{cid}:{m['ts']}"
    thread_ts = m.get("thread_ts")
    root = f"{cid}:{thread_ts}" if thread_ts and thread_ts != m["ts"] else None
    ds.messages.append({"id": key, "room": cid, "author": author, "body": text,
                        "thread_root": root, "created_at": _ts(m["ts"]),
                        "edited_at": _ts(m["edited"]["ts"]) if isinstance(m.get("edited"), dict)
                        and m["edited"].get("ts") else None})
    for r in m.get("reactions") or []:
        if not isinstance(r, dict):
            continue
        for uid in r.get("users") or []:
            if uid in ds.users:
                ds.reactions.append({"message": key, "user": uid,
                                     "emoji": f":{r.get('name', '')}:"})
