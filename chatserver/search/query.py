"""Parse a search string into text terms and filters. Pure: no database access.

The grammar, loosely (see SYNTAX_HELP in chatserver.search):

    query   := item*
    item    := ["-"] (operator | phrase | word)
    operator:= ("in" | "from" | "before" | "after" | "on" | "has" | "is") ":" value
    phrase  := '"' ... '"'      (an unclosed quote runs to the end of the query)
    word    := any run of non-space characters; a trailing "*" makes it a prefix

Each text term is served by one of two indexes, decided here so that both
backends agree: plain words (letters and digits only) and phrases of plain
words go to the stemmed full-text index; anything with punctuation in it
(`api-7f9c`, `10.2.3.4`, `ERR_CONN_RESET`, `/var/log/nginx`) is matched as a
case-insensitive substring through the trigram index, so ops text is found as
typed, also inside a longer token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from chatserver.chat.errors import InvalidInput

MAX_QUERY_CHARS = 500
MAX_TERMS = 30

OPERATORS = ("in", "from", "before", "after", "on", "has", "is")
HAS_VALUES = ("link", "code", "reaction")
IS_VALUES = ("thread", "mentioned")

# Characters that make a term an "ops token" (matched as a substring).
_WORD_RE = re.compile(r"^[^\W_]+$")
_OPERATOR_RE = re.compile(r"^([A-Za-z]+):(.*)$", re.S)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TermKind(StrEnum):
    WORD = "word"  # stemmed full-text word
    PREFIX = "prefix"  # full-text word prefix (`deplo*`)
    PHRASE = "phrase"  # full-text phrase of plain words
    SUBSTRING = "substring"  # ops token or phrase with punctuation, matched as typed


@dataclass(frozen=True)
class Term:
    kind: TermKind
    text: str
    negated: bool = False

    @property
    def full_text(self) -> bool:
        return self.kind is not TermKind.SUBSTRING


@dataclass(frozen=True)
class Filter:
    op: str  # one of OPERATORS
    value: str | date
    negated: bool = False


@dataclass
class ParsedQuery:
    terms: list[Term] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    def filters_of(self, op: str, *, negated: bool) -> list[Filter]:
        return [f for f in self.filters if f.op == op and f.negated == negated]

    @property
    def positive_terms(self) -> list[Term]:
        return [t for t in self.terms if not t.negated]

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.filters


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, fields={"q": message})


def _split(q: str) -> list[tuple[str, bool]]:
    """Split into (raw item, was quoted) pairs; quotes may follow `-` or `op:`."""
    items: list[tuple[str, bool]] = []
    i, n = 0, len(q)
    while i < n:
        if q[i].isspace():
            i += 1
            continue
        start = i
        quoted = False
        while i < n and not q[i].isspace():
            if q[i] == '"':
                quoted = True
                end = q.find('"', i + 1)
                i = n if end == -1 else end + 1
            else:
                i += 1
        items.append((q[start:i], quoted))
    return items


def _unquote(s: str) -> str:
    return s.replace('"', " ").strip()


def _text_term(raw: str, quoted: bool, negated: bool) -> Term | None:
    if quoted:
        text = " ".join(_unquote(raw).split())
        if not text:
            return None
        if all(_WORD_RE.match(w) for w in text.split()):
            kind = TermKind.PHRASE if " " in text else TermKind.WORD
            return Term(kind, text, negated)
        return Term(TermKind.SUBSTRING, text, negated)
    prefix = raw.endswith("*")
    text = raw.rstrip("*")
    if not text:
        return None
    if _WORD_RE.match(text):
        return Term(TermKind.PREFIX if prefix else TermKind.WORD, text, negated)
    # A trailing * on an ops token adds nothing: substrings already match longer tokens.
    return Term(TermKind.SUBSTRING, text, negated)


def _parse_date(op: str, value: str) -> date:
    if not _DATE_RE.match(value):
        raise _bad(f"{op}: needs a date written YYYY-MM-DD, not {value!r}.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(f"{op}:{value} is not a real date.") from None


def _operator(op: str, value: str, negated: bool) -> Filter:
    if not value:
        raise _bad(f"{op}: needs a value.")
    if op == "in":
        name = value.removeprefix("#")
        if not name:
            raise _bad("in: needs a room name, like in:#general.")
        return Filter(op, name, negated)
    if op == "from":
        name = value.removeprefix("@")
        if not name:
            raise _bad("from: needs a user name, like from:@alice.")
        return Filter(op, name, negated)
    if op in ("before", "after", "on"):
        return Filter(op, _parse_date(op, value), negated)
    allowed = HAS_VALUES if op == "has" else IS_VALUES
    value = value.lower()
    if value not in allowed:
        options = ", ".join(f"{op}:{v}" for v in allowed)
        raise _bad(f"Unknown {op}:{value}; use one of {options}.")
    return Filter(op, value, negated)


def parse(q: object) -> ParsedQuery:
    """Parse the q parameter. Raise InvalidInput for what cannot be searched at all."""
    if not isinstance(q, str) or not q.strip():
        raise _bad("q is required: give words to search for or operators like in:#room.")
    if len(q) > MAX_QUERY_CHARS:
        raise _bad(f"q is at most {MAX_QUERY_CHARS} characters.")
    q = q.replace("\x00", " ")
    parsed = ParsedQuery()
    for raw, quoted in _split(q):
        negated = raw.startswith("-") and len(raw) > 1
        body = raw[1:] if negated else raw
        m = _OPERATOR_RE.match(body)
        if m and m.group(1).lower() in OPERATORS:
            op, value = m.group(1).lower(), m.group(2)
            parsed.filters.append(_operator(op, _unquote(value) if quoted else value, negated))
            continue
        if m and m.group(2) and not m.group(2).startswith("/"):
            # `foo:bar` looks like an operator we do not have (URLs like
            # http://x are plainly text and get no hint).
            parsed.hints.append(
                f"{m.group(1)}: is not a search operator; it was searched as text. "
                f"Operators: {', '.join(o + ':' for o in OPERATORS)}."
            )
        term = _text_term(body, quoted, negated)
        if term is not None:
            parsed.terms.append(term)
    if len(parsed.terms) + len(parsed.filters) > MAX_TERMS:
        raise _bad(f"Use at most {MAX_TERMS} words and operators.")
    if parsed.is_empty:
        raise _bad("Nothing to search for: give words or operators like in:#room.")
    return parsed
