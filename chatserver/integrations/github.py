"""GitHub webhook events -> one compact message each.

Handled: push, pull_request, issues, workflow_run (and ping, answered without
a post). Noisy actions (labels, synchronize, in-progress runs) are ignored so
a room sees what changed, not every state transition. The signature check
(X-Hub-Signature-256 = HMAC-SHA256 of the raw body with the hook's secret)
happens before any of this.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from chatserver.chat.errors import InvalidInput

EVENTS = {"push", "pull_request", "issues", "workflow_run", "ping"}


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise InvalidInput(f"The {key} object is missing.", fields={key: "required"})
    return value


def _s(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _md(text: str) -> str:
    """Escape link brackets in titles so they cannot break the markdown link."""
    return text.replace("[", "\\[").replace("]", "\\]")


def _repo(data: dict[str, Any]) -> tuple[str, str]:
    repo = _obj(data, "repository")
    return _s(repo.get("full_name") or repo.get("name")), _s(repo.get("html_url"))


def _who(data: dict[str, Any]) -> str:
    sender = data.get("sender")
    return _s(sender.get("login")) if isinstance(sender, dict) else "someone"


def render(event: str, data: dict[str, Any]) -> str | None:
    """The message for one event, or None when the event is not posted."""
    if event not in EVENTS:
        return None
    if event == "ping":
        return None
    if event == "push":
        return _push(data)
    if event == "pull_request":
        return _pull_request(data)
    if event == "issues":
        return _issue(data)
    return _workflow_run(data)


def _push(data: dict[str, Any]) -> str:
    name, url = _repo(data)
    ref = _s(data.get("ref"))
    if not ref:
        raise InvalidInput("A push event needs a ref.", fields={"ref": "required"})
    kind, short = ("tag", ref.removeprefix("refs/tags/")) if ref.startswith("refs/tags/") \
        else ("branch", ref.removeprefix("refs/heads/"))
    pusher = data.get("pusher")
    who = _s(pusher.get("name")) if isinstance(pusher, dict) and pusher.get("name") \
        else _who(data)
    repo_link = f"[{name}]({url})" if url else name
    if data.get("deleted"):
        return f"🗑️ **{who}** deleted {kind} `{short}` of {repo_link}"
    commits = data.get("commits")
    if not isinstance(commits, list):
        commits = []
    compare = _s(data.get("compare"))
    if data.get("created") and not commits:
        return f"🌱 **{who}** created {kind} `{short}` in {repo_link}"
    n = len(commits)
    what = f"{n} commit{'s' if n != 1 else ''}"
    if compare:
        what = f"[{what}]({compare})"
    lines = [f"🔨 **{who}** pushed {what} to `{short}` of {repo_link}"]
    for c in commits[:5]:
        if not isinstance(c, dict):
            continue
        sha = _s(c.get("id"))[:7]
        title = _s(c.get("message")).splitlines()[0][:120] if c.get("message") else ""
        author = c.get("author")
        by = _s(author.get("name")) if isinstance(author, dict) else ""
        link = f"[`{sha}`]({c['url']})" if c.get("url") else f"`{sha}`"
        lines.append(f"- {link} {_md(title)}" + (f" — {by}" if by else ""))
    if n > 5:
        lines.append(f"- … and {n - 5} more")
    return "\n".join(lines)


def _pull_request(data: dict[str, Any]) -> str | None:
    action = _s(data.get("action"))
    pr = _obj(data, "pull_request")
    name, _ = _repo(data)
    if action == "closed":
        action, icon = ("merged", "🟣") if pr.get("merged") else ("closed", "⚪")
    elif action in ("opened", "reopened", "ready_for_review"):
        icon = "🟢"
        action = "marked ready for review" if action == "ready_for_review" else action
    else:
        return None
    number = _s(pr.get("number") or data.get("number"))
    title = _md(_s(pr.get("title")))
    link = f"[{name}#{number} {title}]({_s(pr.get('html_url'))})"
    line = f"{icon} **{_who(data)}** {action} pull request {link}"
    head, base = pr.get("head"), pr.get("base")
    if isinstance(head, dict) and isinstance(base, dict) and action == "opened":
        line += f"\n`{_s(head.get('ref'))}` → `{_s(base.get('ref'))}`"
    return line


def _issue(data: dict[str, Any]) -> str | None:
    action = _s(data.get("action"))
    if action not in ("opened", "closed", "reopened"):
        return None
    issue = _obj(data, "issue")
    name, _ = _repo(data)
    icon = {"opened": "🐛", "closed": "✔️", "reopened": "🔁"}[action]
    link = f"[{name}#{_s(issue.get('number'))} {_md(_s(issue.get('title')))}]" \
           f"({_s(issue.get('html_url'))})"
    return f"{icon} **{_who(data)}** {action} issue {link}"


def _workflow_run(data: dict[str, Any]) -> str | None:
    if data.get("action") != "completed":
        return None
    run = _obj(data, "workflow_run")
    name, _ = _repo(data)
    conclusion = _s(run.get("conclusion")) or "completed"
    icon = {"success": "✅", "failure": "❌", "cancelled": "⚪", "timed_out": "⏱️"}.get(
        conclusion, "⚠️")
    workflow = _md(_s(run.get("name")) or "workflow")
    branch = _s(run.get("head_branch"))
    link = f"[{workflow}]({_s(run.get('html_url'))})" if run.get("html_url") else workflow
    return f"{icon} {link} {conclusion} on `{branch}` of {name}"
