"""JSON parser that enforces the request body limit (DRF reads the raw stream,
bypassing Django's DATA_UPLOAD_MAX_MEMORY_SIZE check)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from chatserver.chat.errors import TooLarge
from chatserver.chat.jsonbody import NotAnObject, json_object


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
    try:
        return json_object(raw.decode("utf-8"), "request body")
    except UnicodeDecodeError:
        raise ParseError("The request body is not valid UTF-8.") from None
    except NotAnObject as exc:
        raise ParseError(str(exc)) from None
