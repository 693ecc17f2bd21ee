"""ASGI entry point: HTTP through Django, /ws/ through Channels.

HTTP requests run Django's WSGI handler on a pool of worker threads (a2wsgi):
the whole request - middleware, DRF view, database - stays on one thread.
Django's own ASGI handler hops between the event loop and a thread for every
sync middleware and the view, a dozen hand-offs per request that queue behind
the sockets on a busy loop (measured: 15 ms per REST post when idle, 100 posts/s
at most; see bench/README.md).
"""

import asyncio
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

_wsgi_app = WSGIMiddleware(get_wsgi_application(),  # type: ignore[arg-type]
                           workers=settings.HTTP_WORKERS)

from bots.runtime import runtime  # noqa: E402
from chatserver.api import fastpost  # noqa: E402
from chatserver.realtime.middleware import SocketSessionMiddleware  # noqa: E402
from chatserver.realtime.routing import websocket_urlpatterns  # noqa: E402
from chatserver.realtime.writer import post_queue  # noqa: E402
from chatserver.siteadmin.retention import start_periodic as start_retention  # noqa: E402


async def django_http_app(scope, receive, send):
    # REST posts join the sockets' group commit on this loop (realtime/writer.py).
    post_queue.bind(asyncio.get_running_loop())
    if fastpost.handles(scope):  # a token's message post: answered on this loop
        await fastpost.handle(scope, receive, send, _wsgi_app)
    else:
        await _wsgi_app(scope, receive, send)


runtime.start()  # bot users and schedules of this server process (docs/bots.md)
start_retention()  # message retention sweep, one process at a time (docs/deploy.md)

application = ProtocolTypeRouter(
    {
        "http": django_http_app,
        # The consumer authenticates (Bearer header or the session cookie) in
        # the same database call that reads the user's rooms.
        "websocket": SocketSessionMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
