"""Decides whether a request to the callback endpoint comes from Vibes.

Vibes signs nothing. What it offers is a fixed set of source addresses and whatever the
destination URL carries: ``user:password@`` (sent as HTTP Basic) and an unguessable path.
Each protection that is configured must pass:

- ``VIBES_CALLBACK_ALLOWED_IPS``: the client address must be in one of these addresses
  or networks (``*`` turns the check off). Behind a load balancer, the client address is
  read from ``X-Forwarded-For``, but only when the connecting peer is one of
  ``VIBES_TRUSTED_PROXIES``; anyone else's ``X-Forwarded-For`` is ignored.
- ``VIBES_CALLBACK_TOKENS``: the path must end in one of these tokens.
- ``VIBES_CALLBACK_CREDENTIALS``: Basic credentials must match one of these pairs.

Several tokens and pairs are accepted at once so they can be rotated without losing a
delivery. Secrets are compared in constant time, and every configured secret is compared
so the time taken does not tell which one nearly matched.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import HttpRequest

from prefcenter.client_address import client_address as address_behind_proxies
from prefcenter.conf import setting
from vibes_integration.conf import callback_credentials

logger = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    status: int = 200
    reason: str = ""
    client_address: str | None = None
    authenticated_as: str = ""


def parse_networks(entries: Iterable[str]) -> tuple[list[IPNetwork], list[str]]:
    """Addresses and networks (``10.0.0.0/8``) → networks; also returns the unreadable ones."""
    networks: list[IPNetwork] = []
    invalid: list[str] = []
    for entry in entries:
        text = str(entry).strip()
        if not text or text == "*":
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            invalid.append(text)
    return networks, invalid


@functools.lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks, invalid = parse_networks(entries)
    if invalid:
        # Fail closed: an entry we cannot read allows nobody (system check prefcenter.E301).
        logger.error("Ignoring unreadable address entries: %s", ", ".join(invalid))
    return tuple(networks)


def _in_networks(address: str | None, entries: Iterable[str]) -> bool:
    if not address:
        return False
    return _address_in(address, tuple(entries))


@functools.lru_cache(maxsize=1024)
def _address_in(address: str, entries: tuple[str, ...]) -> bool:
    """Remembered per address and setting: Vibes calls from a handful of addresses, so the
    address is parsed and matched once, not in every request."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(entries))


def client_address(request: HttpRequest) -> str | None:
    """The address of whoever sent the request, trusting only ``VIBES_TRUSTED_PROXIES``
    (read as everywhere else: ``prefcenter.client_address``)."""
    proxies = _networks(tuple(setting("VIBES_TRUSTED_PROXIES") or ()))
    return address_behind_proxies(request.META, proxies)


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _match_credentials(given: tuple[str, str], pairs: Iterable[tuple[str, str]]) -> str | None:
    matched = None
    for user, password in pairs:
        # Both comparisons run for every pair: no early exit that timing could reveal.
        user_ok = _equal(given[0], str(user))
        password_ok = _equal(given[1], str(password))
        if user_ok and password_ok and matched is None:
            matched = str(user)
    return matched


def _match_token(given: str, tokens: Iterable[str]) -> int | None:
    matched = None
    for index, token in enumerate(tokens, start=1):
        if _equal(given, str(token)) and matched is None:
            matched = index
    return matched


def authenticate(request: HttpRequest, token: str | None) -> Verdict:
    """Check the request against every configured protection; see the module docstring."""
    address = client_address(request)
    allowed_ips = setting("VIBES_CALLBACK_ALLOWED_IPS")
    if "*" not in allowed_ips and not _in_networks(address, allowed_ips):
        return Verdict(False, 403, "address not allowed", address)

    proofs = []
    tokens = setting("VIBES_CALLBACK_TOKENS")
    if token is not None and not tokens:
        return Verdict(False, 404, "path token given but none configured", address)
    if tokens:
        if token is None:
            return Verdict(False, 403, "path token missing", address)
        index = _match_token(token, tokens)
        if index is None:
            return Verdict(False, 403, "wrong path token", address)
        proofs.append(f"token #{index}")

    pairs = callback_credentials()
    if pairs:
        given = _basic_credentials(request)
        if given is None:
            return Verdict(False, 401, "Basic credentials missing", address)
        user = _match_credentials(given, pairs)
        if user is None:
            return Verdict(False, 401, "wrong Basic credentials", address)
        proofs.append(f"basic:{user}")

    if "*" not in allowed_ips:
        proofs.append("address")
    return Verdict(True, 200, "", address, ", ".join(proofs) or "open")
