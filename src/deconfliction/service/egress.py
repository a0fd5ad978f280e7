"""Where a webhook may point: the public internet, and the networks a deployment names.

A party registers a webhook URL and the service then POSTs to it from inside the deployment, so an
address on loopback, link-local (169.254.169.254 is a cloud's metadata service), a private range or any
other address that is not globally routable would let a party make the service call what only the
deployment's own network can reach (server-side request forgery). Such an address is refused, also when
it is a name that resolves to one, unless ``DECONFLICTION_WEBHOOK_ALLOW_NETWORKS`` names its network.

The check runs at registration and again at every delivery (a name's address can change), and a
delivery connects to the very address that was checked (``Target``): the host name only travels in the
``Host`` header and in TLS's server name, so a name that re-resolves between the check and the connection
changes nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from deconfliction.errors import InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""Host name and port to the addresses it resolves to (``getaddrinfo`` unless a test passes its own)."""


def parse_networks(text: str, variable: str) -> tuple[Network, ...]:
    """``CIDR,CIDR,...`` (commas or spaces), each refused naming ``variable`` when it is not a network."""
    out = []
    for item in text.replace(",", " ").split():
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{variable}: {item!r} is not a network (CIDR such as 10.0.0.0/8 or fd00::/8)") from None
    return tuple(out)


def resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _unmapped(ip: Address) -> Address:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def refused_reason(ip: Address, allow: Iterable[Network]) -> str | None:
    """Why the service will not call ``ip``, or None when it may."""
    ip = _unmapped(ip)
    if any(ip in net for net in allow):
        return None
    if ip.is_unspecified:
        return "not a public address"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "a private range"
    if ip.is_multicast or not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Target:
    """Where a checked webhook request goes: ``url`` names the checked address itself; ``host`` is the
    ``Host`` header and ``server_name`` the TLS server name (the URL's host name; None for http)."""

    url: str
    host: str
    server_name: str | None


def webhook_target(
    address: str, allow: Iterable[Network] = (), *, field: str = "address", resolver: Resolver = resolve
) -> Target:
    """Check a webhook URL and pin it to the first allowed address its host resolves to; every address
    of the name must be allowed (the client picks among them). Refused with a 422 naming ``field``."""
    allow = tuple(allow)
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput.one(field, "invalid_url", "a webhook is an http(s) URL with a host")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput.one(
            field, "invalid_url", f"the port of {address!r} is not a number from 0 to 65535"
        ) from None
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolver(host, port)]
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise InvalidInput.one(field, "unresolvable", f"the host name {host!r} does not resolve")
    for ip in addresses:
        reason = refused_reason(ip, allow)
        if reason is not None:
            shown = host if literal is not None else f"{host} ({ip})"
            raise InvalidInput.one(
                field,
                "address_not_allowed",
                f"{shown} is {reason}: the service calls only public addresses and the networks the "
                "deployment allows (DECONFLICTION_WEBHOOK_ALLOW_NETWORKS)",
            )
    ip = addresses[0]
    netloc = (f"[{ip}]" if ip.version == 6 else str(ip)) + f":{port}"
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    url = urlunsplit((parts.scheme, userinfo + netloc, parts.path or "/", parts.query, ""))
    host_header = parts.netloc.rsplit("@", 1)[-1]  # no credentials in a Host header
    return Target(url, host_header, host if parts.scheme == "https" and literal is None else None)
