"""Render message markdown to sanitized HTML, once, at write time."""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.\-]{1,150})")

_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th",
    "td", "span",
}
_ALIGNMENTS = {"text-align:left", "text-align:center", "text-align:right"}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "span": {"class"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "js-default" has raw HTML off; linkify turns bare URLs into links.
    md = MarkdownIt("js-default", {"linkify": True, "breaks": True, "html": False})
    md.enable(["table", "strikethrough", "linkify"])
    return md


def _filter_class(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        # Keep only language hints on code blocks and our mention marker.
        classes = [c for c in value.split() if c.startswith("language-") or c == "mention"]
        return " ".join(classes) or None
    if attribute == "style":
        return value if value in _ALIGNMENTS else None
    return value


def render(body: str, mentionable: set[str] | None = None) -> str:
    """Render markdown to HTML that is safe to insert into the page."""
    html = _parser().render(body)
    if mentionable:
        html = _mark_mentions(html, mentionable)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_filter_class,
    )


def _mark_mentions(html: str, names: set[str]) -> str:
    """Wrap @name in a span outside of code blocks and tags."""
    parts = re.split(r"(<code[^>]*>.*?</code>|<pre[^>]*>.*?</pre>|<[^>]+>)", html, flags=re.S)
    for i, part in enumerate(parts):
        if not part or part.startswith("<"):
            continue
        parts[i] = MENTION_RE.sub(
            lambda m: f'<span class="mention">@{m.group(1)}</span>'
            if m.group(1).lower() in names
            else m.group(0),
            part,
        )
    return "".join(parts)


def mentioned_names(body: str) -> set[str]:
    """Return the lowercased names written as @name, ignoring code spans and blocks.

    Reads the markdown token stream, so every kind of code (backtick and tilde
    fences, indented blocks, code spans) is skipped exactly as it is rendered.
    """
    names: set[str] = set()
    if "@" not in body:  # most messages: no need to parse
        return names
    for token in _parser().parse(body):
        if token.type != "inline":
            continue
        for child in token.children or ():
            if child.type == "text":
                names.update(m.group(1).rstrip(".-").lower()
                             for m in MENTION_RE.finditer(child.content))
    return names
