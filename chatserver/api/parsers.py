"""JSON parser that enforces the request body limit (DRF reads the raw stream,
bypassing Django's DATA_UPLOAD_MAX_MEMORY_SIZE check)."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from chatserver.chat.errors import TooLarge


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
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
        if not isinstance(data, dict):
            raise ParseError("The request body must be a JSON object.")
        return data
