"""The status bot: HTTP checks of admin-listed endpoints.

`@status` checks every endpoint now (status code, latency). A schedule checks
them every minute and posts in each endpoint's room when one goes down (after
`failures_before_down` failures in a row: the flap guard) or recovers. URLs go
through the integrations SSRF guard (netguard): loopback and private addresses
are refused unless CHAT_WEBHOOK_ALLOW_NETS allows them, the request goes to the
checked address, and redirects are not followed.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from bots.sdk import Bot, CommandError, command, every
from chatserver.integrations import netguard

from .models import StatusEndpoint


@dataclass
class Probe:
    ok: bool
    status: int | None
    latency_ms: int | None
    error: str = ""


def probe(endpoint: StatusEndpoint) -> Probe:
    started = time.monotonic()
    try:
        target = netguard.resolve(endpoint.url)
        parts = urlsplit(endpoint.url)
        host = f"[{target.host}]" if ":" in target.host else target.host
        headers = {"Host": host if parts.port is None else f"{host}:{parts.port}",
                   "User-Agent": "chatserver-status/1"}
        with httpx.Client(timeout=min(endpoint.timeout_seconds, 30.0),
                          follow_redirects=False) as client:
            resp = client.get(target.url, headers=headers,
                              extensions={"sni_hostname": target.host})
    except netguard.Refused as exc:
        return Probe(False, None, None, f"refused: {exc}")
    except httpx.TimeoutException:
        return Probe(False, None, None, f"no answer within {endpoint.timeout_seconds:g} s")
    except httpx.HTTPError as exc:
        return Probe(False, None, None, type(exc).__name__)
    latency = int((time.monotonic() - started) * 1000)
    ok = resp.status_code == endpoint.expected_status
    return Probe(ok, resp.status_code, latency,
                 "" if ok else f"answered {resp.status_code}, expected {endpoint.expected_status}")


def probe_all(endpoints: list[StatusEndpoint]) -> list[Probe]:
    if not endpoints:
        return []
    with ThreadPoolExecutor(min(8, len(endpoints))) as pool:
        return list(pool.map(probe, endpoints))


def line(endpoint: StatusEndpoint, result: Probe) -> str:
    icon = "🟢" if result.ok else "🔴"
    detail = f"{result.status} in {result.latency_ms} ms" if result.status is not None \
        else result.error
    if result.status is not None and not result.ok:
        detail = f"{result.error} ({result.latency_ms} ms)"
    return f"- {icon} **{endpoint.name}** {endpoint.url} — {detail}"


class StatusBot(Bot):
    """Checks the HTTP endpoints admins listed; posts when one goes down or recovers."""

    name = "status"
    display_name = "Status"
    default_command = "check"

    @command("check [<endpoint>]", readonly=True, timeout="1m", examples=["check", "check api"])
    def check(self, ctx, endpoint=None):
        """Check the endpoints (or one) now: status code and latency."""
        qs = StatusEndpoint.objects.filter(enabled=True).order_by("name")
        if endpoint:
            qs = qs.filter(name=endpoint.lower())
        endpoints = list(qs[:50])
        if not endpoints:
            raise CommandError(f"There is no endpoint `{endpoint}`." if endpoint
                               else "No endpoints yet; an admin can add them.")
        results = probe_all(endpoints)
        up = sum(r.ok for r in results)
        ctx.reply(f"**Status**: {up}/{len(results)} up\n"
                  + "\n".join(line(e, r) for e, r in zip(endpoints, results, strict=True)))

    @every("1m", timeout="2m")
    def watch(self, ctx):
        """Check every endpoint; post transitions (down after N failures, recovered)."""
        from .oncall_service import now

        endpoints = list(StatusEndpoint.objects.filter(enabled=True).select_related("room"))
        for e, result in zip(endpoints, probe_all(endpoints), strict=True):
            e.last_status, e.last_latency_ms = result.status, result.latency_ms
            e.last_error, e.last_checked_at = result.error[:300], now()
            note = ""
            if result.ok:
                if e.up is False:
                    note = f"✅ **{e.name}** recovered: {result.status} in {result.latency_ms} ms"
                e.up, e.failures = True, 0
            else:
                e.failures += 1
                if e.failures >= max(1, e.failures_before_down) and e.up is not False:
                    e.up = False
                    note = f"🔴 **{e.name}** is down: {result.error} ({e.url})"
            e.save(update_fields=["last_status", "last_latency_ms", "last_error",
                                  "last_checked_at", "up", "failures"])
            if note and e.room_id:
                with suppress(CommandError):  # the bot is not in that room
                    ctx.send(e.room_id, note)
