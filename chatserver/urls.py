from django.conf import settings
from django.contrib import admin
from django.http import FileResponse, HttpResponse, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from bots.builtin.hookview import bot_hook_view

handler400 = "chatserver.api.errors.handler400"
handler404 = "chatserver.api.errors.handler404"
handler500 = "chatserver.api.errors.handler500"


def index(request):
    """Serve the built web client, or a pointer to the API while it is not built."""
    page = settings.BASE_DIR / "static" / "app" / "index.html"
    if page.exists():
        return FileResponse(page.open("rb"), content_type="text/html")
    return HttpResponse(
        "<!doctype html><title>Chat server</title><h1>Chat server</h1>"
        '<p>The web client is not built. API docs: <a href="/api/v1/docs/">/api/v1/docs/</a></p>'
    )


def healthz(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", index),
    path("healthz", healthz),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("chatserver.api.urls")),
    path("hooks/bot/<str:bot>/<str:name>", bot_hook_view),
    path("hooks/", include("chatserver.integrations.urls")),
    path("django-admin/", admin.site.urls),
]
