"""Which addresses outgoing HTTP may reach: no loopback, private or link-local ones unless allowed."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(Exception):
    """The URL's host resolves to an address that settings do not allow."""


def _internal(address: Address) -> bool:
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def _allowed(host: str, address: Address, allow: Iterable[str]) -> bool:
    for entry in allow:
        if entry == host:
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


async def check_host(host: str, port: int, allow: Iterable[str]) -> None:
    """Refuse a host that resolves to an internal address, unless `allow` names it
    (a host name, an address or a CIDR range such as 127.0.0.1/32)."""
    allow = list(allow)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BlockedAddress(f"cannot resolve host '{host}': {exc.strerror}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if _internal(address) and not _allowed(host, address, allow):
            raise BlockedAddress(
                f"'{host}' resolves to {address}, an internal address; "
                "add it to STEPWISE_FETCH_ALLOW_HOSTS to allow it"
            )
