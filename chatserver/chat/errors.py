"""Domain errors raised by actions and access gates.

The REST layer maps them to status codes, the socket to error frames.
"""

from __future__ import annotations


class ChatError(Exception):
    code = "bad_request"
    status = 400

    def __init__(self, message: str = "", *, fields: dict | None = None,
                 retry_after: float | None = None):
        super().__init__(message or self.code)
        self.message = message or self.code.replace("_", " ")
        self.fields = fields or {}
        self.retry_after = retry_after


class InvalidInput(ChatError):
    code = "invalid"
    status = 400


class NotFound(ChatError):
    """Missing, or not visible to the caller: one error for both."""

    code = "not_found"
    status = 404


class Forbidden(ChatError):
    """Visible but not allowed (never used for rooms the caller cannot see)."""

    code = "forbidden"
    status = 403


class Conflict(ChatError):
    code = "conflict"
    status = 409


class TooLarge(ChatError):
    code = "too_large"
    status = 413


class RateLimited(ChatError):
    code = "rate_limited"
    status = 429
