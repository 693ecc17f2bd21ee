"""Bot tests use the harness that ships with the SDK."""

from bots.testing import botbox  # noqa: F401
