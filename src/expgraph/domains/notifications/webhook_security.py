"""Which webhook URLs may be called: the SSRF guard.

A webhook URL is an address the server itself will POST to, so a user could aim
it at the server's own network (a database port on loopback, a cloud metadata
endpoint at 169.254.169.254, a private service). Unless
``EXPGRAPH_WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` is on, a URL is refused when its host
resolves to any loopback, private, link-local, multicast, reserved, unspecified
or otherwise non-public address (IPv4 and IPv6, an IPv4-mapped IPv6 address
judged as its IPv4 address). The check runs when a webhook is created or its URL
changed (``BAD_REQUEST``) and again at every delivery, because DNS may change.

At delivery the request connects to the very addresses checked here (``Target``:
the host name only travels in the Host header and TLS SNI), so a DNS answer
changed between the check and the connection (DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from expgraph.config import Settings
from expgraph.errors import BadRequest

MAX_URL_LENGTH = 2_000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(Exception):
    """The URL may not be called (the message says why, for the user)."""


@dataclass(frozen=True)
class Target:
    """Where one request goes: the checked addresses and what the URL names."""

    scheme: str
    host: str  # the URL's host name (no brackets), for Host and TLS SNI
    port: int
    path: str  # path and query, at least "/"
    addresses: tuple[str, ...]  # resolved and checked, connect to these in order

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _parts(url: str) -> tuple[str, str, int, str]:
    """scheme, host, port and path of an acceptable URL, else RefusedAddress."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedAddress(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise RefusedAddress("the URL must not contain spaces or control characters")
    if not url.isascii():
        raise RefusedAddress(
            "the URL must be ASCII: percent-encode its path, give its host in punycode"
        )
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError as exc:
        raise RefusedAddress(f"the URL is not valid: {exc}") from exc
    scheme = split.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedAddress("the URL must start with http:// or https://")
    if split.username is not None or split.password is not None:
        raise RefusedAddress("the URL must not contain a user name or password")
    host = split.hostname
    if not host:
        raise RefusedAddress("the URL has no host")
    path = split.path or "/"
    if split.query:
        path = f"{path}?{split.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def why_refused(address: IPAddress) -> str | None:
    """Why the server may not call ``address``; None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for flag, reason in (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
    ):
        if flag:
            return reason
    if not address.is_global:
        return "non-public"
    return None


async def resolve(host: str, port: int) -> tuple[str, ...]:
    """The host's addresses (a literal address is itself), in resolver order."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedAddress(f"the host {host!r} cannot be resolved") from exc
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedAddress(f"the host {host!r} has no address")
    return tuple(addresses)


async def target(settings: Settings, url: str) -> Target:
    """Resolve ``url``'s host and check every address it resolves to; raises
    ``RefusedAddress``."""
    scheme, host, port, path = _parts(url)
    addresses = await resolve(host, port)
    if not settings.webhook_allow_private_addresses:
        for address in addresses:
            reason = why_refused(ipaddress.ip_address(address.split("%", 1)[0]))
            if reason is not None:
                raise RefusedAddress(
                    f"the host {host!r} resolves to a {reason} address ({address}); "
                    "webhooks may only call public addresses"
                )
    return Target(scheme, host, port, path, addresses)


async def check_url(settings: Settings, url: str) -> str:
    """``url`` stripped, if a webhook may use it; else BAD_REQUEST naming ``url``."""
    url = url.strip()
    try:
        if settings.webhook_allow_private_addresses:
            _parts(url)  # no lookup: the address is not judged, and DNS may be down
        else:
            await target(settings, url)
    except RefusedAddress as exc:
        raise BadRequest(str(exc), field="url") from exc
    return url
