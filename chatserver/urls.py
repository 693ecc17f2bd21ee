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


FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#3b6fd8"/>'
    '<path d="M4 5h8v5H7l-3 2z" fill="#fff"/></svg>'
)


def favicon(request):
    """Browsers ask for /favicon.ico on every page (Django admin, API docs): answer
    with a small icon rather than a 404 in their consoles."""
    resp = HttpResponse(FAVICON, content_type="image/svg+xml")
    resp["Cache-Control"] = "public, max-age=86400"
    return resp


def healthz(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", index),
    path("healthz", healthz),
    path("favicon.ico", favicon),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("chatserver.api.urls")),
    path("hooks/bot/<str:bot>/<str:name>", bot_hook_view),
    path("hooks/", include("chatserver.integrations.urls")),
    path("django-admin/", admin.site.urls),
]
