"""Build the highlight shown with a result: matched words in <mark>, every other
character HTML-escaped. Works from a raw snippet (engine output with
MARK_START/MARK_END around stemmed word matches) and also marks the query's
substring terms, which the engines' snippet functions do not know about."""

from __future__ import annotations

import html
import re

from .backends import MARK_END, MARK_START

WINDOW_BEFORE, WINDOW_AFTER = 60, 140


def _segments(raw: str) -> list[tuple[str, bool]]:
    """Split a raw snippet into (text, marked) pieces; stray markers only toggle."""
    out: list[tuple[str, bool]] = []
    marked = False
    for piece in re.split(f"([{MARK_START}{MARK_END}])", raw):
        if piece == MARK_START:
            marked = True
        elif piece == MARK_END:
            marked = False
        elif piece:
            out.append((piece, marked))
    return out


def _window(body: str, substrings: list[str]) -> str:
    """Cut a long body around the first substring match (or take its start)."""
    if len(body) <= WINDOW_BEFORE + WINDOW_AFTER:
        return body
    lower = body.lower()
    hits = [i for i in (lower.find(s.lower()) for s in substrings) if i >= 0]
    at = min(hits) if hits else 0
    start = max(0, at - WINDOW_BEFORE)
    end = min(len(body), at + WINDOW_AFTER)
    return ("…" if start else "") + body[start:end] + ("…" if end < len(body) else "")


def render(body: str, raw_snippet: str | None, substrings: list[str]) -> str:
    if raw_snippet is None:
        clean = body.replace(MARK_START, "").replace(MARK_END, "")
        raw_snippet = _window(clean, substrings)
    pattern = (re.compile("|".join(re.escape(s) for s in sorted(substrings, key=len,
                                                               reverse=True)), re.I)
               if substrings else None)
    out: list[str] = []
    for text, marked in _segments(raw_snippet):
        if marked:
            out.append(f"<mark>{html.escape(text)}</mark>")
            continue
        pos = 0
        for m in pattern.finditer(text) if pattern else ():
            out.append(html.escape(text[pos:m.start()]))
            out.append(f"<mark>{html.escape(m.group(0))}</mark>")
            pos = m.end()
        out.append(html.escape(text[pos:]))
    return "".join(out)
