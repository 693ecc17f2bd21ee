"""Security headers on every HTTP answer.

The web client is built by Vite into static files with no inline script, so the
Content-Security-Policy allows scripts from this origin only. Swagger UI
(/api/v1/docs/) starts itself with an inline script, so that one page also
allows inline scripts. X-Content-Type-Options, Referrer-Policy and
X-Frame-Options come from Django's own middleware (settings.py).
"""

from __future__ import annotations

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https:",
    "connect-src 'self' ws: wss:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'")
LOOSE_PATHS = ("/api/v1/docs/", "/django-admin/")
COOP = "same-origin"  # Cross-Origin-Opener-Policy (also set by api/fastpost.py)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            loose = request.path.startswith(LOOSE_PATHS)
            response["Content-Security-Policy"] = DOCS_CSP if loose else CSP
        response.setdefault("Cross-Origin-Opener-Policy", COOP)
        return response
