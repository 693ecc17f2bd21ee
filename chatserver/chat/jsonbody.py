"""A request body as a JSON object: the checks the REST API and the webhooks share."""

from __future__ import annotations

import json
import re


class NotAnObject(ValueError):
    """Why a body is not a usable JSON object (the message is for the sender)."""


def json_object(text: str, what: str = "body") -> dict:
    """`text` parsed as a JSON object, or NotAnObject naming `what` and why not.

    Escapes that decode to NUL or a lone UTF-16 surrogate are refused too:
    neither can be stored (PostgreSQL refuses NUL, UTF-8 a lone surrogate),
    and no field has a use for them."""
    if not text.strip():
        raise NotAnObject(f"The {what} is empty; send a JSON object.")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NotAnObject(f"The {what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise NotAnObject(f"The {what} is nested too deeply.") from None
    if not isinstance(data, dict):
        raise NotAnObject(f"The {what} must be a JSON object.")
    if _SUSPECT_ESCAPE.search(text) and not _clean_strings(data):
        raise NotAnObject(f"The {what} contains a NUL character or an unpaired "
                          "UTF-16 surrogate escape.")
    return data


# \u0000 and \ud800-\udfff: only these escapes can produce the characters checked below.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _clean_strings(value: object) -> bool:
    """True when no string (key or value) holds NUL or a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True
