"""Full-text search over message history (issue 5).

`search_messages(user, q, sort=, cursor=, limit=) -> SearchPage` is the entry
point for the REST view and for bots; SYNTAX_HELP is the text `@help search` shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .help import SYNTAX_HELP

if TYPE_CHECKING:
    from .service import SearchPage

__all__ = ["SYNTAX_HELP", "search_messages"]


def search_messages(user, q: object, **kwargs: Any) -> SearchPage:
    # Imported here so `import chatserver.search` works before the app registry is ready.
    from .service import search_messages as run

    return run(user, q, **kwargs)
