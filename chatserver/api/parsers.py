"""JSON parser that enforces the request body limit (DRF reads the raw stream,
bypassing Django's DATA_UPLOAD_MAX_MEMORY_SIZE check)."""

from __future__ import annotations

import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from chatserver.chat.errors import TooLarge


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return parse_json_object(stream.read(limit + 1) if stream is not None else b"")


def parse_json_object(raw: bytes) -> dict:
    """A request body as a JSON object, or ParseError/TooLarge saying why not.

    Shared by the DRF parser and the message fast path (api/fastpost.py)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if len(raw) > limit:
        raise TooLarge(f"Request bodies are at most {limit} bytes.")
    if not raw.strip():
        raise ParseError("The request body is empty; send a JSON object.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("The request body is not valid UTF-8.") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ParseError("The request body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise ParseError("The request body must be a JSON object.")
    if _SUSPECT_ESCAPE.search(text) and not _clean_strings(data):
        # Neither can be stored (PostgreSQL refuses NUL, UTF-8 refuses lone
        # surrogates) and no field has a use for them: refuse them here, once.
        raise ParseError("The request body contains a NUL character or an unpaired "
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
