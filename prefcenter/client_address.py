"""Who sent a request: the client address, believing ``X-Forwarded-For`` only from our proxies.

One reading for the callback endpoint (whose allow-list checks Vibes' addresses) and the
preference pages (whose address goes into the consent ledger and the rate limits), so a
spoofed header is refused the same way everywhere. The header is read only when the direct
peer is one of the trusted proxies, and then from the right, skipping our own proxies, to
the first address that is not one of them (the left part is whatever the client chose to
send). Addresses may carry a port (``198.51.100.7:5000``, ``[2001:db8::1]:443``); an
IPv4 address written as IPv6 (``::ffff:10.0.0.2``) is the IPv4 address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it, without brackets or port; None when unreadable."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def in_networks(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def client_address(meta: Mapping[str, str], proxies: Iterable[IPNetwork]) -> str | None:
    """The client's address from a request's ``META``; None when the peer's is unreadable.

    A hop that cannot be read ends the walk: the last address read is the client.
    """
    peer = parse_address(meta.get("REMOTE_ADDR") or "")
    proxies = tuple(proxies)
    if peer is None or not proxies or not in_networks(peer, proxies):
        return None if peer is None else str(peer)
    client = peer
    hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        client = address
        if not in_networks(address, proxies):
            break
    return str(client)
