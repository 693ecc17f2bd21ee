"""In-process listeners for committed messages.

`chat.actions` calls `message_posted` once a new message has committed, in the
process that wrote it; the bot runtime (and anything else that must see each
message exactly once) registers a listener from its AppConfig.ready().
Listeners must return quickly: they run on the writer's thread and should hand
real work to their own executor. A listener that raises is logged and never
undoes or delays the send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MessageListener = Callable[[dict[str, Any]], None]
_message_listeners: list[MessageListener] = []


def on_message_posted(listener: MessageListener) -> MessageListener:
    """Register `listener(message_dict)`; usable as a decorator."""
    if listener not in _message_listeners:
        _message_listeners.append(listener)
    return listener


def remove_message_listener(listener: MessageListener) -> None:
    if listener in _message_listeners:
        _message_listeners.remove(listener)


def message_posted(message: dict[str, Any]) -> None:
    for listener in list(_message_listeners):
        try:
            listener(message)
        except Exception:  # a listener's bug must never fail the send
            log.exception("message listener %r failed", listener)


def messages_posted(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        message_posted(message)
