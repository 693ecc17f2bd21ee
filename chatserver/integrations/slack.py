"""Slack/Mattermost message payloads -> our markdown.

Tools written for a Slack or Mattermost incoming webhook send `text` (Slack's
mrkdwn: `<url|label>` links, `<!channel>`, `&amp;` escapes), optional
`username` / `icon_emoji` / `icon_url` display overrides, `attachments`
(color, pretext, author, title, text, fields, footer) and, from newer SDKs,
Block Kit `blocks`. We keep what a reader needs and render it as one compact
markdown block; the posting identity stays the hook's bot, with the override
shown on the first line.
"""

from __future__ import annotations

import colorsys
import html
import re
from typing import Any

from chatserver.chat.errors import InvalidInput

_NAMED_COLORS = {"good": "🟢", "warning": "🟡", "danger": "🔴"}
_HUE_EMOJI = [(15, "🔴"), (45, "🟠"), (70, "🟡"), (170, "🟢"), (260, "🔵"), (330, "🟣"),
              (360, "🔴")]
_LINK = re.compile(r"<([^<>|\s]+)(?:\|([^<>]*))?>")


def color_emoji(color: object) -> str:
    """A colored dot for an attachment's color: named, or the nearest hue of #rrggbb."""
    if not isinstance(color, str) or not color:
        return ""
    if color in _NAMED_COLORS:
        return _NAMED_COLORS[color]
    value = color.lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}|[0-9a-fA-F]{3}", value):
        return ""
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    r, g, b = (int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))
    h, light, s = colorsys.rgb_to_hls(r, g, b)
    if s < 0.2 or light < 0.1 or light > 0.92:
        return "⚫" if light < 0.5 else "⚪"
    hue = h * 360
    return next(emoji for limit, emoji in _HUE_EMOJI if hue <= limit)


def mrkdwn(text: str) -> str:
    """Slack mrkdwn -> our markdown: links, broadcast mentions, HTML escapes."""

    def link(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target in ("!channel", "!here", "!everyone"):
            return "@room"
        if target.startswith("!"):
            return label or ""
        if target.startswith("@") or target.startswith("#"):
            return label or target  # Slack user/channel ids mean nothing here
        if label:
            return f"[{label}]({target})"
        return target

    text = _LINK.sub(link, text)
    return html.unescape(text)


def _str(value: object, field: str, limit: int = 4000) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string.", fields={field: "must be a string"})
    return value[:limit]


def _fields(fields: object, where: str) -> list[str]:
    if fields is None:
        return []
    if not isinstance(fields, list):
        raise InvalidInput(f"{where}.fields must be a list.", fields={where: "invalid fields"})
    lines: list[str] = []
    short: list[str] = []
    for i, f in enumerate(fields[:50]):
        if not isinstance(f, dict):
            raise InvalidInput(f"{where}.fields[{i}] must be an object.",
                               fields={where: "invalid field"})
        title = _str(f.get("title"), f"{where}.fields[{i}].title", 200)
        value = mrkdwn(_str(f.get("value"), f"{where}.fields[{i}].value"))
        item = f"**{title}**: {value}" if title else value
        if f.get("short"):
            short.append(item)
        else:
            if short:
                lines.append(" · ".join(short))
                short = []
            lines.append(item)
    if short:
        lines.append(" · ".join(short))
    return lines


def attachment_lines(att: object, index: int) -> list[str]:
    where = f"attachments[{index}]"
    if not isinstance(att, dict):
        raise InvalidInput(f"{where} must be an object.", fields={where: "must be an object"})
    lines: list[str] = []
    pretext = mrkdwn(_str(att.get("pretext"), f"{where}.pretext"))
    if pretext:
        lines.append(pretext)
    block: list[str] = []
    author = _str(att.get("author_name"), f"{where}.author_name", 200)
    if author:
        link = _str(att.get("author_link"), f"{where}.author_link", 2000)
        block.append(f"[{author}]({link})" if link else author)
    dot = color_emoji(att.get("color"))
    title = mrkdwn(_str(att.get("title"), f"{where}.title", 500))
    title_link = _str(att.get("title_link"), f"{where}.title_link", 2000)
    if title:
        title = f"[{title}]({title_link})" if title_link else title
        block.append(f"{dot} **{title}**".strip())
    text = mrkdwn(_str(att.get("text"), f"{where}.text"))
    if text:
        block.extend(text.splitlines())
    block.extend(_fields(att.get("fields"), where))
    footer = mrkdwn(_str(att.get("footer"), f"{where}.footer", 300))
    if footer:
        block.append(f"_{footer}_")
    if not title and dot and block:
        block[0] = f"{dot} {block[0]}"
    if not block:
        fallback = _str(att.get("fallback"), f"{where}.fallback")
        if fallback:
            block.append(f"{dot} {mrkdwn(fallback)}".strip())
    lines.extend(f"> {line}" if line else ">" for line in block)
    return lines


def _block_text(block: object) -> str:
    """Plain text of a Block Kit section/header/context block (others are skipped)."""
    if not isinstance(block, dict):
        return ""
    kind = block.get("type")
    text = block.get("text")
    if kind in ("section", "header") and isinstance(text, dict):
        value = text.get("text")
        if isinstance(value, str):
            return f"**{value}**" if kind == "header" else mrkdwn(value)
    if kind == "context" and isinstance(block.get("elements"), list):
        parts = [e.get("text") for e in block["elements"] if isinstance(e, dict)]
        return "_" + " ".join(p for p in parts if isinstance(p, str)) + "_"
    return ""


def render(payload: dict[str, Any]) -> str:
    """The markdown body of a Slack-compatible payload; InvalidInput when there is none."""
    text = mrkdwn(_str(payload.get("text"), "text", 40_000))
    lines: list[str] = []
    username = _str(payload.get("username"), "username", 100).strip()
    icon = _str(payload.get("icon_emoji"), "icon_emoji", 100).strip()
    _str(payload.get("icon_url"), "icon_url", 2000)  # validated; images are not shown
    if username or icon:
        lines.append(f"{icon} **{username}**".strip() if username else icon)
    blocks = payload.get("blocks")
    if blocks is not None and not isinstance(blocks, list):
        raise InvalidInput("blocks must be a list.", fields={"blocks": "invalid"})
    # With blocks, Slack shows the blocks and uses text only for notifications.
    shown = [t for t in (_block_text(b) for b in (blocks or [])[:50]) if t]
    if shown:
        lines.extend(shown)
    elif text:
        lines.append(text)
    attachments = payload.get("attachments")
    if attachments is not None and not isinstance(attachments, list):
        raise InvalidInput("attachments must be a list.", fields={"attachments": "invalid"})
    for i, att in enumerate((attachments or [])[:20]):
        lines.extend(attachment_lines(att, i))
    has_content = len(lines) > (1 if username or icon else 0)
    if not has_content:
        raise InvalidInput("The payload has no text, attachments or blocks to post.",
                           fields={"text": "required"})
    return "\n".join(lines)
