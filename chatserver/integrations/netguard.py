"""SSRF guard for outgoing webhooks.

A hook URL is resolved before each request and refused when any address it
resolves to is loopback, private, link-local, multicast, reserved or
unspecified, unless it falls in CHAT["WEBHOOK_ALLOW_NETS"] (set by the server
admin). The request then goes to the checked address itself (Host header and
TLS server name stay the URL's host), so a DNS answer that changes between the
check and the connection (rebinding) cannot reach an internal service.
Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be called."""


@dataclass(frozen=True)
class Target:
    url: str  # the URL with its host replaced by the checked address
    host: str  # the original host, for the Host header and TLS
    address: IPAddress


def check_url_shape(url: object) -> str:
    """Scheme and host only (no DNS): for validating a hook when it is created."""
    if not isinstance(url, str) or len(url) > 2000:
        raise Refused("url must be an http or https URL of at most 2000 characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("url must be an http or https URL with a host.")
    if parts.username or parts.password:
        raise Refused("url must not contain credentials.")
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise Refused("url has an invalid port.") from None
    literal = _literal(parts.hostname)
    if literal is not None and not allowed(literal):
        raise Refused(f"{literal} is a loopback, private or otherwise internal address.")
    return url


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _allow_nets() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for item in settings.CHAT.get("WEBHOOK_ALLOW_NETS") or []:
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue
    return nets


def allowed(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in net for net in _allow_nets()):
        return True
    return not (address.is_loopback or address.is_private or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified
                or not address.is_global)


def resolve(url: str) -> Target:
    """Check the URL and pin it to one allowed address; raise Refused otherwise."""
    check_url_shape(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = _literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise Refused(f"cannot resolve {host}: {exc.strerror}") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    bad = [a for a in addresses if not allowed(a)]
    if bad or not addresses:
        raise Refused(f"{host} resolves to {bad[0] if bad else 'nothing'}, a loopback, "
                      "private or otherwise internal address.")
    address = addresses[0]
    netloc = f"[{address}]" if address.version == 6 else str(address)
    if parts.port:
        netloc += f":{parts.port}"
    return Target(url=parts._replace(netloc=netloc).geturl(), host=host, address=address)
