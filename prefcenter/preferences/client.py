"""Who is asking: the client address (through trusted proxies only) and the user agent.

Both go into the consent ledger and the rate limits, so a spoofed ``X-Forwarded-For`` must
not be believed: the address is read as everywhere else (``prefcenter.client_address``),
trusting ``PREFCENTER_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest

from crm.services import ConsentContext
from prefcenter.client_address import client_address
from prefcenter.conf import setting

USER_AGENT_MAX_LENGTH = 2000


def client_ip(request: HttpRequest) -> str | None:
    return client_address(request.META, setting("PREFCENTER_TRUSTED_PROXIES") or ())


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
