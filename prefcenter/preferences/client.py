"""Who is asking: the client address (through trusted proxies only) and the user agent.

Both go into the consent ledger and the rate limits, so a spoofed ``X-Forwarded-For`` must
not be believed: the header is read only when the direct peer is one of the configured
proxies, and then from the right, skipping our own proxies, to the first address that is
not one of them (the left part is whatever the client chose to send).
"""

from __future__ import annotations

import ipaddress
import uuid

from django.http import HttpRequest

from crm.services import ConsentContext
from prefcenter.conf import setting

USER_AGENT_MAX_LENGTH = 2000


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    peer = _parse_ip(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    proxies = setting("PREFCENTER_TRUSTED_PROXIES")

    def trusted(address) -> bool:
        return any(address in network for network in proxies)

    if not proxies or not trusted(peer):
        return str(peer)
    forwarded = [
        part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    client = peer
    for part in reversed(forwarded):
        address = _parse_ip(part)
        if address is None:
            break
        client = address
        if not trusted(address):
            break
    return str(client)


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH]


def request_reference(request: HttpRequest) -> str:
    """``request:<id>``: one id per HTTP request, shared by every consent event it causes."""
    reference = getattr(request, "_prefcenter_reference", None)
    if reference is None:
        reference = f"request:{uuid.uuid4().hex}"
        request._prefcenter_reference = reference
    return reference


def consent_context(request: HttpRequest, *, disclosure_text: str | None = None) -> ConsentContext:
    return ConsentContext(
        ip_address=client_ip(request),
        user_agent=user_agent(request),
        disclosure_text=disclosure_text,
        reference=request_reference(request),
    )
