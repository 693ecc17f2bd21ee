"""The production setup in docker-compose.yml, checked by reading it.

No Docker engine runs in CI, so these tests parse docker-compose.yml, the
nginx config it mounts and the Dockerfile it builds, and check the wiring a
typo would silently break: which services exist, what each one connects to,
what waits for what, and that /ws/ reaches every server process as a
WebSocket. They need neither Django nor a database.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
# WORKDIR of the app image (deploy/Dockerfile): /app/x in a container is ./x here.
APP_DIR_IN_IMAGE = "/app/"

LONG_RUNNING = "unless-stopped"
COMPOSE_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")


# --- docker-compose.yml -------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def interpolate(value: str) -> str:
    """Substitute every ${VAR...} with a set value, as Compose does at run time."""
    return COMPOSE_VAR.sub("value", value).replace("$$", "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(word) for word in cmd]


def option(words: list[str], name: str) -> str:
    assert name in words, f"{name} missing from {words}"
    return words[words.index(name) + 1]


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def replicas(service: dict[str, Any]) -> int:
    deploy = service.get("deploy") or {}
    return int(deploy.get("replicas", service.get("scale", 1)))


def server_names() -> list[str]:
    """Services that run a chat server process (`manage.py serve`)."""
    return [
        name
        for name, service in services().items()
        if command(service)[1:3] == ["manage.py", "serve"]
    ]


def app_services() -> list[str]:
    """Services that run the app image: the migrate step and the servers."""
    return ["migrate", *server_names()]


def split_database_url(raw: str) -> tuple[str, str, str, str, int | None, str]:
    """Split a postgres:// URL whose password may be a ${VAR:?message}."""
    scheme, _, rest = raw.partition("://")
    userinfo, _, location = rest.rpartition("@")
    user, _, password = userinfo.partition(":")
    parts = urlsplit("//" + location)
    return scheme, user, password, parts.hostname or "", parts.port, parts.path.lstrip("/")


def repo_path_of_bind_mount(volume: str) -> Path | None:
    source = volume.split(":", 1)[0]
    return ROOT / source if source.startswith(("./", "../")) else None


# --- nginx config -------------------------------------------------------------------


class Directive(NamedTuple):
    name: str
    args: list[str]
    block: list[Directive] | None


NGINX_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|#[^\n]*|[{};]|[^\s{};'\"#]+")


def parse_nginx(text: str) -> list[Directive]:
    root: list[Directive] = []
    stack = [root]
    words: list[str] = []
    for token in NGINX_TOKEN.findall(text):
        if token.startswith("#"):
            continue
        if token == ";":
            stack[-1].append(Directive(words[0], words[1:], None))
            words = []
        elif token == "{":
            directive = Directive(words[0], words[1:], [])
            stack[-1].append(directive)
            stack.append(directive.block)  # type: ignore[arg-type]
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(token[1:-1] if token[:1] in "'\"" else token)
    assert len(stack) == 1 and not words, "unbalanced braces in nginx config"
    return root


def find(block: list[Directive], name: str) -> list[Directive]:
    return [d for d in block if d.name == name]


def one(block: list[Directive], name: str) -> Directive:
    found = find(block, name)
    assert len(found) == 1, f"expected one {name!r}, found {len(found)}"
    return found[0]


def headers_set(block: list[Directive]) -> dict[str, str]:
    return {d.args[0].lower(): " ".join(d.args[1:]) for d in find(block, "proxy_set_header")}


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", duration)
    assert match, f"not an nginx duration: {duration}"
    unit = {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
    return int(match[1]) * unit


def proxy_service() -> dict[str, Any]:
    return services()["proxy"]


@cache
def nginx_conf_path() -> Path:
    """The repo file the proxy service mounts as its nginx config."""
    for volume in proxy_service().get("volumes", []):
        source = repo_path_of_bind_mount(volume)
        target = volume.split(":")[1]
        if source is not None and target.startswith("/etc/nginx/"):
            return source
    raise AssertionError("the proxy service mounts no nginx config from the repository")


@cache
def nginx_http() -> list[Directive]:
    block = one(parse_nginx(nginx_conf_path().read_text()), "http").block
    assert block is not None
    return block


def nginx_server() -> list[Directive]:
    block = one(nginx_http(), "server").block
    assert block is not None
    return block


def location(path: str) -> list[Directive]:
    for directive in find(nginx_server(), "location"):
        if directive.args == [path]:
            assert directive.block is not None
            return directive.block
    raise AssertionError(f"no `location {path}` in {nginx_conf_path()}")


def upstream(name: str) -> list[Directive]:
    for directive in find(nginx_http(), "upstream"):
        if directive.args == [name]:
            assert directive.block is not None
            return directive.block
    raise AssertionError(f"no upstream {name!r} in {nginx_conf_path()}")


def proxied_upstream(block: list[Directive]) -> str:
    target = one(block, "proxy_pass").args[0]
    assert target.startswith("http://"), target
    return target.removeprefix("http://").rstrip("/")


# --- services and their wiring ------------------------------------------------------


def test_compose_has_database_redis_migrate_proxy_and_two_servers():
    for name in ("postgres", "redis", "migrate", "proxy"):
        assert name in services(), f"service {name} missing"
    assert services()["postgres"]["image"].startswith("postgres:")
    assert services()["redis"]["image"].startswith("redis:")
    assert proxy_service()["image"].startswith("nginx:")
    processes = sum(replicas(services()[name]) for name in server_names())
    assert processes >= 2, f"need at least two server processes, have {server_names()}"


def test_postgres_keeps_its_data_in_a_named_volume_and_is_checked_with_pg_isready():
    postgres = services()["postgres"]
    volumes = {v.split(":")[1]: v.split(":")[0] for v in postgres["volumes"]}
    data_volume = volumes.get("/var/lib/postgresql/data")
    assert data_volume in compose()["volumes"], "postgres data must live in a named volume"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_redis_is_checked_with_ping():
    assert services()["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_app_services_reach_postgres_and_redis_by_service_name():
    postgres_env = environment(services()["postgres"])
    for name in app_services():
        env = environment(services()[name])
        scheme, user, password, host, port, database = split_database_url(env["DATABASE_URL"])
        assert scheme in ("postgres", "postgresql"), name
        assert (host, port) == ("postgres", 5432), name
        assert user == postgres_env["POSTGRES_USER"], name
        assert password == postgres_env["POSTGRES_PASSWORD"], name
        assert database == postgres_env["POSTGRES_DB"], name
        redis = urlsplit(interpolate(env["REDIS_URL"]))
        assert redis.scheme == "redis" and redis.hostname == "redis", name
        assert redis.port in (None, 6379), name


def test_app_services_share_one_image_and_one_configuration():
    first, *others = (services()[name] for name in app_services())
    for other in others:
        assert other["image"] == first["image"]
        assert other.get("build") == first.get("build")
        assert environment(other) == environment(first)


def test_secrets_are_required_and_debug_is_off():
    """Compose refuses to start without them (${VAR:?...}), rather than guessing."""
    env = environment(services()["migrate"])
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "SECRET_KEY must be required"
    assert env["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS:?")
    assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    assert env["DEBUG"] == "0"


def test_migrate_runs_once_before_any_server_starts():
    migrate = services()["migrate"]
    assert command(migrate)[1:] == ["manage.py", "migrate", "--noinput"]
    assert migrate.get("restart", "no") == "no", "a one-shot step must not be restarted"
    assert depends_on(migrate)["postgres"] == "service_healthy"
    for name in server_names():
        deps = depends_on(services()[name])
        assert deps.get("migrate") == "service_completed_successfully", name
        assert deps.get("postgres") == "service_healthy", name
        assert deps.get("redis") == "service_healthy", name


def test_long_running_services_restart_unless_stopped():
    for name in ("postgres", "redis", "proxy", *server_names()):
        assert services()[name].get("restart") == LONG_RUNNING, name


def test_servers_listen_on_all_interfaces_and_have_a_healthz_healthcheck():
    for name in server_names():
        server = services()[name]
        words = command(server)
        assert option(words, "--host") == "0.0.0.0", name  # noqa: S104
        check = server["healthcheck"]["test"]
        script = next(word for word in check if word.startswith(APP_DIR_IN_IMAGE))
        script_path = ROOT / script.removeprefix(APP_DIR_IN_IMAGE)
        assert script_path.is_file(), f"{name}: healthcheck script {script} is not in the repo"
        assert "/healthz" in script_path.read_text()
        assert check[-1] == option(words, "--port"), f"{name}: healthcheck checks another port"


def test_only_the_proxies_publish_ports():
    for name, service in services().items():
        if name not in ("proxy", "caddy"):
            assert "ports" not in service, f"{name} must not be reachable from outside"
    assert proxy_service()["ports"], "the proxy publishes no port"


def test_every_file_mounted_from_the_repo_exists():
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = repo_path_of_bind_mount(volume)
            if source is not None:
                assert source.is_file(), f"{name} mounts {volume}, which is not in the repo"


def test_named_volumes_are_declared():
    declared = compose().get("volumes") or {}
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith(("/", ".")):
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_image_is_built_by_a_dockerfile_that_builds_the_web_client():
    build = services()["migrate"]["build"]
    dockerfile = ROOT / build["context"] / build["dockerfile"]
    text = dockerfile.read_text()
    assert "npm ci" in text and "npm run build" in text, "the web client is not built"
    assert re.search(r"^WORKDIR /app$", text, re.MULTILINE), "healthcheck paths assume /app"
    ignore = (dockerfile.parent / f"{dockerfile.name}.dockerignore").read_text().split()
    for private in (".env", "data/", ".venv/", "**/node_modules/", ".git/"):
        assert private in ignore, f"{private} would be copied into the image"


# --- the proxy ----------------------------------------------------------------------


def test_upstream_lists_exactly_the_server_services():
    pool = upstream(proxied_upstream(location("/ws/")))
    expected = {f"{name}:{option(command(services()[name]), '--port')}" for name in server_names()}
    assert {d.args[0] for d in find(pool, "server")} == expected
    assert find(pool, "least_conn") or find(pool, "ip_hash"), "no balancing method"
    assert set(depends_on(proxy_service())) >= set(server_names())


def test_websocket_location_passes_the_upgrade_to_the_servers():
    ws = location("/ws/")
    headers = headers_set(ws)
    assert headers["upgrade"] == "$http_upgrade"
    connection = headers["connection"]
    if connection.startswith("$"):
        (mapping,) = (m for m in find(nginx_http(), "map") if m.args[1] == connection)
        assert mapping.args[0] == "$http_upgrade"
        values = {entry.name: entry.args[0] for entry in mapping.block or []}
        assert values["default"] == "upgrade"
        assert values[""] in ("close", "")
    else:
        assert connection.lower() == "upgrade"
    version = find(ws, "proxy_http_version") or find(nginx_server(), "proxy_http_version")
    assert version and version[0].args == ["1.1"]
    # The client pings every 25 s; a read timeout under a few minutes would
    # cut quiet sockets.
    assert seconds(one(ws, "proxy_read_timeout").args[0]) >= 300


def test_every_proxied_location_forwards_client_address_scheme_and_host():
    """proxy_set_header in a location replaces the server's: each needs all of them."""
    for directive in find(nginx_server(), "location"):
        block = directive.block or []
        if not find(block, "proxy_pass"):
            continue
        headers = headers_set(block)
        where = f"location {directive.args[0]}"
        assert headers.get("host") in ("$host", "$http_host"), where
        assert headers.get("x-forwarded-for") == "$proxy_add_x_forwarded_for", where
        assert "x-forwarded-proto" in headers, where
        assert proxied_upstream(block) == proxied_upstream(location("/ws/")), where


def test_request_bodies_are_limited_to_one_megabyte():
    assert one(nginx_server(), "client_max_body_size").args == ["1m"]


def test_upstream_servers_are_re_resolved_after_a_container_is_recreated():
    """A rolling restart gives a server a new address; `resolve` makes nginx follow it.

    Without it nginx keeps the address it saw at start until reloaded. It needs
    a shared memory zone, a resolver and nginx 1.27.3 or later.
    """
    pool = upstream(proxied_upstream(location("/ws/")))
    for server in find(pool, "server"):
        assert "resolve" in server.args, f"upstream server {server.args[0]} lacks `resolve`"
    assert find(pool, "zone"), "`resolve` needs a shared memory zone"
    assert find(nginx_http(), "resolver") or find(pool, "resolver"), "no resolver"
    tag = proxy_service()["image"].split(":")[1]
    version = tuple(int(part) for part in re.findall(r"\d+", tag)[:3])
    assert version >= (1, 27, 3), f"nginx {tag} has no `resolve` for upstream servers"


# --- documentation ------------------------------------------------------------------


def test_deploy_doc_names_every_service_and_setting():
    doc = DEPLOY_DOC.read_text()
    for name in services():
        assert f"`{name}`" in doc, f"docs/deploy.md does not mention service {name}"
    variables = set(COMPOSE_VAR.findall(COMPOSE_FILE.read_text()))
    for variable, _ in variables:
        assert variable in doc, f"docs/deploy.md does not document {variable}"


def test_env_example_lists_every_required_setting():
    example = ENV_EXAMPLE.read_text()
    required = {
        var for var, rest in COMPOSE_VAR.findall(COMPOSE_FILE.read_text()) if rest.startswith(":?")
    }
    assert required >= {"SECRET_KEY", "POSTGRES_PASSWORD", "ALLOWED_HOSTS"}
    for variable in required:
        assert re.search(rf"^{variable}=", example, re.MULTILINE), variable


def test_the_access_log_cuts_incoming_webhook_tokens():
    """/hooks/<token> is a credential: nginx logs the request line through a map that
    keeps the token's 8-character hint (checked here with the map's own regex)."""
    http = nginx_http()
    log_format = " ".join(" ".join(d.args[1:]) for d in find(http, "log_format"))
    assert "$request_redacted" in log_format
    assert not re.search(r"\$request(?!_redacted|_time)\b|\$request_uri|\$uri", log_format)
    [redacting] = [d for d in find(http, "map") if d.args == ["$request", "$request_redacted"]]
    assert redacting.block is not None
    entries = {d.name: " ".join(d.args) for d in redacting.block}
    assert entries.pop("default") == "$request"
    [(source, value)] = entries.items()
    assert source.startswith("~")
    # nginx (PCRE) names a group (?<name>...) and uses it as $name; Python: (?P<name>...)
    pattern = re.compile(source[1:].replace("(?<", "(?P<"))
    replacement = re.sub(r"\$(\w+)", r"\\g<\1>", value)

    def logged(request: str) -> str:
        return pattern.sub(replacement, request) if pattern.match(request) else request

    token = "wh_Abc-123_xyzXYZ0987654321abcdefABCDEF"
    assert logged(f"POST /hooks/{token} HTTP/1.1") == "POST /hooks/wh_Abc-1... HTTP/1.1"
    assert logged(f"POST /hooks/{token}/github?x=1 HTTP/1.1") == \
        "POST /hooks/wh_Abc-1.../github?x=1 HTTP/1.1"
    for untouched in ("POST /hooks/bot/watch/ci HTTP/1.1", "GET /api/v1/rooms HTTP/1.1",
                      "GET /hooks/ HTTP/1.1"):
        assert logged(untouched) == untouched
