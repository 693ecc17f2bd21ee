"""Keep secrets in URLs out of the logs.

An incoming webhook's URL is its credential (/hooks/<token>[/<format>]), and
every log line that names a request's path would print it: Django's
django.request warnings for 4xx/5xx answers ("Bad Request: /hooks/wh_..."), the
ASGI servers' access logs. Those lines keep the token's first 8 characters,
which is the hint the API shows (`token_hint`), so a line can still be matched
with its hook. Bot webhook URLs (/hooks/bot/<bot>/<name>) hold no secret.
"""

from __future__ import annotations

import logging
import re

HINT = 8
_HOOK_PATH = re.compile(r"(/hooks/)(?!bot/)([^/?#\s\"']{" + str(HINT) + r"})[^/?#\s\"']+")


def redact(text: str) -> str:
    """`text` with the token of every /hooks/<token> path cut to its hint."""
    if "/hooks/" not in text:
        return text
    return _HOOK_PATH.sub(r"\1\2…", text)


class RedactHookTokens(logging.Filter):
    """A logging filter: redact() the message and its string arguments, keeping
    their shape (uvicorn's access formatter reads the arguments by position)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return True
