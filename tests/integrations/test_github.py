"""GitHub deliveries: signature, events, de-duplication by X-GitHub-Delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

from django.test import Client

from chatserver.integrations.models import Delivery

from .conftest import hook_path, room_messages, send

SECRET = "It's a Secret to Everybody"

PUSH = {
    "ref": "refs/heads/main",
    "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    "after": "59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5",
    "created": False, "deleted": False, "forced": False,
    "compare": "https://github.com/octo-org/hello/compare/6113728f27ae...59b20b8d5c6f",
    "commits": [
        {"id": "59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5", "distinct": True,
         "message": "Fix the flaky deploy check\n\nLonger explanation.",
         "timestamp": "2026-01-05T10:00:00Z",
         "url": "https://github.com/octo-org/hello/commit/59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5",
         "author": {"name": "Mona Lisa", "email": "mona@example.com", "username": "mona"}},
        {"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "distinct": True,
         "message": "Bump version",
         "url": "https://github.com/octo-org/hello/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
         "author": {"name": "Hubot", "email": "hubot@example.com"}},
    ],
    "head_commit": None,
    "repository": {"id": 35129377, "name": "hello", "full_name": "octo-org/hello",
                   "html_url": "https://github.com/octo-org/hello", "private": False},
    "pusher": {"name": "mona", "email": "mona@example.com"},
    "sender": {"login": "mona", "id": 1},
}


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def gh(client, hook, event: str, payload, *, delivery: str, secret: str | None = SECRET,
       form: bool = False):
    body = json.dumps(payload).encode()
    raw = urlencode({"payload": body.decode()}).encode() if form else body
    headers = {"HTTP_X_GITHUB_EVENT": event, "HTTP_X_GITHUB_DELIVERY": delivery,
               "HTTP_USER_AGENT": "GitHub-Hookshot/abc123"}
    if secret is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signed(raw, secret)
    ctype = "application/x-www-form-urlencoded" if form else "application/json"
    return send(client, hook_path(hook, "github"), raw=raw, content_type=ctype, **headers)


def test_signed_push_posts_once(ops, make_hook):
    room = ops["room"]
    hook = make_hook(ops["admin"], room, name="GitHub", secret=SECRET)
    client = Client()
    resp = gh(client, hook, "push", PUSH, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert resp.status_code == 200, resp.content
    again = gh(client, hook, "push", PUSH, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert again.status_code == 200 and "X-Duplicate-Delivery" in again
    [msg] = room_messages(room)
    assert msg.body.splitlines() == [
        "🔨 **mona** pushed [2 commits](https://github.com/octo-org/hello/compare/"
        "6113728f27ae...59b20b8d5c6f) to `main` of [octo-org/hello](https://github.com/octo-org/hello)",
        "- [`59b20b8`](https://github.com/octo-org/hello/commit/59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5)"
        " Fix the flaky deploy check — Mona Lisa",
        "- [`0d1a26e`](https://github.com/octo-org/hello/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c)"
        " Bump version — Hubot",
    ]
    d = Delivery.objects.get(delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert d.format == "github" and d.duplicates == 1 and d.message_ids == [msg.id]


def test_bad_or_missing_signature_is_refused_and_not_kept(ops, make_hook):
    hook = make_hook(ops["admin"], ops["room"], secret=SECRET)
    client = Client()
    for secret in ("wrong secret", None):
        resp = gh(client, hook, "push", PUSH, delivery=f"d-{secret}", secret=secret)
        assert resp.status_code == 401, resp.content
        assert resp.json()["error"]["code"] == "bad_signature"
    assert room_messages(ops["room"]) == []
    assert Delivery.objects.count() == 0


def test_form_encoded_github_delivery_is_verified_on_the_raw_body(ops, make_hook):
    hook = make_hook(ops["admin"], ops["room"], secret=SECRET)
    resp = gh(Client(), hook, "push", PUSH, delivery="form-1", form=True)
    assert resp.status_code == 200
    assert room_messages(ops["room"])[0].body.startswith("🔨 **mona** pushed")


def test_other_events(ops, make_hook):
    room = ops["room"]
    hook = make_hook(ops["admin"], room)  # no secret: signatures are not required
    repo = PUSH["repository"]
    sender = {"login": "octocat"}
    client = Client()
    pr = {"action": "opened", "number": 7, "repository": repo, "sender": sender,
          "pull_request": {"number": 7, "title": "Add [beta] flag", "merged": False,
                           "html_url": "https://github.com/octo-org/hello/pull/7",
                           "head": {"ref": "beta"}, "base": {"ref": "main"}}}
    merged = {**pr, "action": "closed",
              "pull_request": {**pr["pull_request"], "merged": True}}
    labeled = {**pr, "action": "labeled"}
    issue = {"action": "opened", "repository": repo, "sender": sender,
             "issue": {"number": 3, "title": "Crash on start",
                       "html_url": "https://github.com/octo-org/hello/issues/3"}}
    run = {"action": "completed", "repository": repo, "sender": sender,
           "workflow_run": {"name": "CI", "conclusion": "failure", "head_branch": "main",
                            "html_url": "https://github.com/octo-org/hello/actions/runs/9"}}
    in_progress = {**run, "action": "in_progress"}
    sent = [("pull_request", pr), ("pull_request", merged), ("pull_request", labeled),
            ("issues", issue), ("workflow_run", run), ("workflow_run", in_progress),
            ("ping", {"zen": "Keep it logically awesome.", "hook_id": 1}),
            ("star", {"action": "created", "repository": repo})]
    for i, (event, payload) in enumerate(sent):
        assert gh(client, hook, event, payload, delivery=f"e{i}", secret=None).status_code == 200
    assert [m.body for m in room_messages(room)] == [
        "🟢 **octocat** opened pull request [octo-org/hello#7 Add \\[beta\\] flag]"
        "(https://github.com/octo-org/hello/pull/7)\n`beta` → `main`",
        "🟣 **octocat** merged pull request [octo-org/hello#7 Add \\[beta\\] flag]"
        "(https://github.com/octo-org/hello/pull/7)",
        "🐛 **octocat** opened issue [octo-org/hello#3 Crash on start]"
        "(https://github.com/octo-org/hello/issues/3)",
        "❌ [CI](https://github.com/octo-org/hello/actions/runs/9) failure on `main` of octo-org/hello",
    ]
    statuses = dict(Delivery.objects.values_list("delivery_id", "status"))
    assert statuses["e2"] == statuses["e6"] == statuses["e7"] == "ignored"


def test_github_bad_bodies(ops, make_hook):
    hook = make_hook(ops["admin"], ops["room"])
    client = Client()
    resp = send(client, hook_path(hook, "github"), PUSH)  # no X-GitHub-Event
    assert resp.status_code == 400 and "X-GitHub-Event" in resp.json()["error"]["message"]
    resp = gh(client, hook, "push", {"ref": "refs/heads/main"}, delivery="x1", secret=None)
    assert resp.status_code == 400 and "repository" in resp.json()["error"]["message"]
    assert room_messages(ops["room"]) == []
