"""Settings, read from environment variables only.

Embedded default: SQLite (WAL) under CHAT_DATA_DIR, in-memory fan-out, one
process. Production: DATABASE_URL=postgres://..., REDIS_URL=redis://...,
several server processes behind a proxy (docs/deploy.md).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("CHAT_DATA_DIR", BASE_DIR / "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
(DATA_DIR / "staticfiles").mkdir(exist_ok=True)


def _secret_key() -> str:
    """Use SECRET_KEY, or generate one into the data dir on first run."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "chatserver.accounts",
    "chatserver.chat",
    "chatserver.events",
    "chatserver.realtime",
    "chatserver.api",
    "chatserver.audit",
    "chatserver.integrations",
    "chatserver.siteadmin",
    "bots",
    "chatserver.search",
    "bots.builtin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chatserver.siteadmin.security.SecurityHeadersMiddleware",
    "chatserver.audit.context.ClientIPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatserver.urls"
ASGI_APPLICATION = "chatserver.asgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'chat.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if IS_SQLITE:
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
        # busy timeout instead of failing with "database is locked" mid-way.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    # A file, not :memory:, so that live-server tests in a subprocess share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
elif IS_POSTGRES:
    # Under ASGI each request may run in a new thread, so persistent
    # connections would leak: use psycopg's pool instead (Django 5.1+).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DB_POOL_MIN", "2")),
        # HTTP_WORKERS + CHAT_DB_THREADS + the bot runtime's threads
        "max_size": int(os.environ.get("DB_POOL_MAX", "30")),
        "timeout": 10,
    }

# Threads that run HTTP requests in each server process (chatserver/asgi.py).
HTTP_WORKERS = int(os.environ.get("CHAT_HTTP_WORKERS", "16"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cross-process fan-out, shared rate limits ------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "chat",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth, sessions, security -------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# CHAT_HTTPS=1: served over HTTPS (directly or behind a proxy); SECURE_PROXY=1:
# behind a proxy that says so in X-Forwarded-Proto. Either makes cookies Secure
# and sends HSTS on HTTPS answers.
if env_bool("SECURE_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if env_bool("SECURE_PROXY") or env_bool("CHAT_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("CHAT_HSTS_SECONDS", "31536000"))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Request bodies over this answer 413 (messages themselves are capped lower).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- I18N, static --------------------------------------------------------------

LANGUAGE_CODE = "en-us"


def _time_zone() -> str:
    """CHAT_TIME_ZONE: the site's zone, for people who did not choose one (UTC)."""
    from zoneinfo import ZoneInfo

    name = os.environ.get("CHAT_TIME_ZONE", "").strip() or "UTC"
    try:
        ZoneInfo(name)
    except Exception:
        raise ValueError(f"CHAT_TIME_ZONE={name!r} is not an IANA time zone name") from None
    return name


TIME_ZONE = _time_zone()
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# The web client's built assets carry a content hash in their names: cache them for good.
WHITENOISE_IMMUTABLE_FILE_TEST = r"^/static/app/assets/"

# --- REST API ---------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "chatserver.accounts.authentication.BearerTokenAuthentication",
        "chatserver.accounts.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["chatserver.api.parsers.LimitedJSONParser"],
    "EXCEPTION_HANDLER": "chatserver.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(  # type: ignore[attr-defined]
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Chat server API",
    "DESCRIPTION": "REST API of the chat server. The WebSocket protocol is in docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Serve Swagger UI from our own static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "chatserver.api.schema.add_error_responses",
    ],
}

# --- Chat limits (see docs/api.md) ----------------------------------------------------


def _rate(name: str, default: str) -> tuple[int, int]:
    """Parse "COUNT/SECONDS" from the environment."""
    count, _, seconds = os.environ.get(name, default).partition("/")
    return int(count), int(seconds or 1)


CHAT: dict[str, Any] = {
    "MAX_BODY_CHARS": 10_000,
    "MAX_FRAME_BYTES": 64 * 1024,
    # Pinned messages a room may have at once (pinning one more answers 409).
    "MAX_PINS_PER_ROOM": int(os.environ.get("CHAT_MAX_PINS_PER_ROOM", "100")),
    # Sends per user, REST and socket together.
    "SEND_RATE": _rate("CHAT_SEND_RATE", "30/10"),
    "BOT_SEND_RATE": _rate("CHAT_BOT_SEND_RATE", "120/10"),
    # Frames of any type per socket; past it frames are refused, and a socket
    # that keeps going past it 3 windows in a row is closed with 4429.
    "FRAME_RATE": _rate("CHAT_FRAME_RATE", "100/10"),
    "LOGIN_RATE": _rate("CHAT_LOGIN_RATE", "10/60"),
    # Login lockout (chatserver/siteadmin/lockout.py): failures in a row before a
    # username / an address is locked, the first lock, the longest (it doubles).
    "LOGIN_LOCK_AFTER": int(os.environ.get("CHAT_LOGIN_LOCK_AFTER", "5")),
    "LOGIN_LOCK_AFTER_IP": int(os.environ.get("CHAT_LOGIN_LOCK_AFTER_IP", "20")),
    "LOGIN_LOCK_SECONDS": int(os.environ.get("CHAT_LOGIN_LOCK_SECONDS", "30")),
    "LOGIN_LOCK_MAX_SECONDS": int(os.environ.get("CHAT_LOGIN_LOCK_MAX_SECONDS", "900")),
    # Trust X-Forwarded-For from the proxy in front (audit IPs, login lockout per address).
    "TRUST_PROXY": env_bool("CHAT_TRUST_PROXY") or env_bool("SECURE_PROXY"),
    # Retention sweep: how often the server process runs it (0: never; use the
    # apply_retention command from cron instead).
    "RETENTION_INTERVAL": int(os.environ.get("CHAT_RETENTION_INTERVAL", "3600")),
    # Frames queued for one socket before it is closed with 4408.
    "SOCKET_QUEUE": int(os.environ.get("CHAT_SOCKET_QUEUE", "1000")),
    # How long events are kept for resume; older asks get resync_required.
    "EVENT_RETENTION_DAYS": int(os.environ.get("CHAT_EVENT_RETENTION_DAYS", "30")),
    "MAX_REPLAY_EVENTS": int(os.environ.get("CHAT_MAX_REPLAY_EVENTS", "5000")),
    # Group commit of socket sends: at most this many messages per transaction,
    # and (PostgreSQL) this many transactions in flight per process.
    "WRITE_BATCH": int(os.environ.get("CHAT_WRITE_BATCH", "200")),
    "WRITE_CONCURRENCY": int(os.environ.get("CHAT_WRITE_CONCURRENCY", "1")),
    # REST message posts with a Bearer token answered on the event loop instead
    # of through Django's request cycle (chatserver/api/fastpost.py); 0: off.
    "REST_FAST_POST": env_bool("CHAT_REST_FAST_POST", True),
    # Threads that run the socket layer's database calls, per process.
    "DB_THREADS": int(os.environ.get("CHAT_DB_THREADS", "8")),
    # Webhooks (chatserver/integrations): deliveries per hook, raw deliveries kept,
    # the window in which a body without a delivery id counts as a retry.
    "WEBHOOK_RATE": _rate("CHAT_WEBHOOK_RATE", "60/10"),
    "WEBHOOK_RETENTION_DAYS": int(os.environ.get("CHAT_WEBHOOK_RETENTION_DAYS", "14")),
    "WEBHOOK_DEDUPE_SECONDS": int(os.environ.get("CHAT_WEBHOOK_DEDUPE_SECONDS", "600")),
    # Outgoing webhooks and slash commands: per-try timeout, tries, first backoff,
    # and the networks the SSRF guard lets through (loopback/private are refused).
    "WEBHOOK_TIMEOUT": float(os.environ.get("CHAT_WEBHOOK_TIMEOUT", "5")),
    "WEBHOOK_TRIES": int(os.environ.get("CHAT_WEBHOOK_TRIES", "3")),
    "WEBHOOK_BACKOFF": float(os.environ.get("CHAT_WEBHOOK_BACKOFF", "1")),
    "WEBHOOK_ALLOW_NETS": env_list("CHAT_WEBHOOK_ALLOW_NETS"),
    # Slash commands' response_url (a later answer): how long it works and how many
    # answers it takes. Its base is CHAT_PUBLIC_URL (e.g. https://chat.example.com),
    # else the address the hook was created at.
    "PUBLIC_URL": os.environ.get("CHAT_PUBLIC_URL", "").strip().rstrip("/"),
    "WEBHOOK_RESPONSE_MINUTES": int(os.environ.get("CHAT_WEBHOOK_RESPONSE_MINUTES", "30")),
    "WEBHOOK_RESPONSE_USES": int(os.environ.get("CHAT_WEBHOOK_RESPONSE_USES", "5")),
    # Bots (docs/bots.md): classes to load ("module:Class", comma-separated),
    # failures in a row before a bot is paused, posts per room before it is muted.
    "BOTS": env_list("CHAT_BOTS", ",".join([
        "bots.builtin.help:HelpBot", "bots.builtin.oncall:OncallBot",
        "bots.builtin.incident:IncidentBot", "bots.builtin.alerts:AlertsBot",
        "bots.builtin.remind:RemindBot", "bots.builtin.poll:PollBot",
        "bots.builtin.runbook:RunbookBot", "bots.builtin.deploy:DeployBot",
        "bots.builtin.status:StatusBot"])),
    "BOT_FAILURE_LIMIT": int(os.environ.get("CHAT_BOT_FAILURE_LIMIT", "5")),
    "BOT_ROOM_RATE": _rate("CHAT_BOT_ROOM_RATE", "20/5"),
    "BOT_MUTE_SECONDS": int(os.environ.get("CHAT_BOT_MUTE_SECONDS", "300")),
    # Text search configuration (PostgreSQL name; on SQLite "english" means Porter
    # stemming and anything else none). Run `manage.py search_reindex` after a change.
    "SEARCH_CONFIG": os.environ.get("CHAT_SEARCH_CONFIG", "english"),
    # Relevance ranking scores only the newest this-many matches (bounded latency).
    "SEARCH_RANK_CANDIDATES": int(os.environ.get("CHAT_SEARCH_RANK_CANDIDATES", "2000")),
    "INCIDENT_QUIET_MINUTES": int(os.environ.get("CHAT_INCIDENT_QUIET_MINUTES", "30")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Log lines that print request paths (django.request's 4xx/5xx warnings, a
    # server's messages about a request) would print an incoming webhook's token:
    # chatserver/logsafe.py cuts it, on the logger (for every handler) and on our
    # handler (for any logger). The serve command does the same for access logs.
    "filters": {"hook_tokens": {"()": "chatserver.logsafe.RedactHookTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["hook_tokens"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        "django.request": {"filters": ["hook_tokens"]},
    },
}
