"""ASGI entry point: HTTP through Django, /ws/ through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from bots.runtime import runtime  # noqa: E402
from chatserver.realtime.middleware import BearerAuthMiddleware  # noqa: E402
from chatserver.realtime.routing import websocket_urlpatterns  # noqa: E402
from chatserver.siteadmin.retention import start_periodic as start_retention  # noqa: E402

runtime.start()  # bot users and schedules of this server process (docs/bots.md)
start_retention()  # message retention sweep, one process at a time (docs/deploy.md)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(BearerAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
