"""The one accessor for the preference center's settings.

Each value is looked up at call time (so ``override_settings`` works) in Django's settings,
then in the environment variable of the same name, then in ``DEFAULTS``. A value that cannot
be understood raises ``ImproperlyConfigured`` naming the setting and the expected form,
instead of failing later inside a subscriber's request.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    "PREFCENTER_BRAND_NAME": "Northwind Outfitters",
    "PREFCENTER_LINK_MAX_AGE": 30 * 24 * 3600,
    "PREFCENTER_TRUSTED_PROXIES": None,
    "PREFCENTER_OPT_IN_LIMIT_PER_PERSON": "10/1h",
    "PREFCENTER_OPT_IN_LIMIT_PER_NUMBER": "10/1d",
    "PREFCENTER_OPT_IN_LIMIT_PER_ADDRESS": "20/1h",
    "PREFCENTER_LINK_LIMIT_PER_ADDRESS": "10/1h",
    "PREFCENTER_LINK_LIMIT_PER_EMAIL": "3/1h",
    "PREFCENTER_TEXTED_COUNTRIES": "US",
}

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    """At most ``count`` events per ``seconds``."""

    count: int
    seconds: int


def _raw(name: str) -> Any:
    if name not in DEFAULTS:
        raise KeyError(f"{name} is not a preference-center setting")
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    if value is None or value == "":
        value = DEFAULTS[name]
    return value


def _invalid(name: str, value: Any, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}={value!r} is not valid: expected {expected}.")


def parse_rate(name: str, value: Any) -> Rate | None:
    """``"10/1h"`` → ``Rate(10, 3600)``; ``"off"`` → None (no limit)."""
    if isinstance(value, Rate):
        return value
    text = str(value).strip().lower()
    if text in {"off", "none"}:
        return None
    match = _RATE.match(text)
    count = int(match.group(1)) if match else 0
    multiplier = int(match.group(2) or 1) if match else 0
    if count <= 0 or multiplier <= 0:
        raise _invalid(
            name, value, 'a count per period such as "10/1h", "3/15m", "50/1d", or "off"'
        )
    return Rate(count=count, seconds=multiplier * _UNITS[match.group(3)])


def brand_name() -> str:
    return str(_raw("PREFCENTER_BRAND_NAME"))


def link_max_age() -> int:
    """Seconds a preference-center link stays valid."""
    value = _raw("PREFCENTER_LINK_MAX_AGE")
    if isinstance(value, datetime.timedelta):
        seconds = int(value.total_seconds())
    else:
        try:
            seconds = int(str(value).strip())
        except ValueError:
            seconds = 0
    if seconds <= 0:
        raise _invalid(
            "PREFCENTER_LINK_MAX_AGE", value, "a whole number of seconds greater than zero"
        )
    return seconds


def rate(name: str) -> Rate | None:
    if not name.startswith(("PREFCENTER_OPT_IN_LIMIT_", "PREFCENTER_LINK_LIMIT_")):
        raise KeyError(f"{name} is not a rate-limit setting")
    return parse_rate(name, _raw(name))


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Networks whose ``X-Forwarded-For`` header is believed.

    Falls back to ``VIBES_TRUSTED_PROXIES``: the same load balancers usually front both the
    callback endpoint and the preference pages.
    """
    name = "PREFCENTER_TRUSTED_PROXIES"
    value = _raw(name)
    if value is None:
        name, value = "VIBES_TRUSTED_PROXIES", getattr(settings, "VIBES_TRUSTED_PROXIES", [])
    items = [part.strip() for part in value.split(",")] if isinstance(value, str) else value
    networks = []
    for item in items or []:
        if not str(item).strip():
            continue
        try:
            networks.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError as exc:
            raise _invalid(
                name, value, "comma-separated addresses or networks such as 10.0.0.0/8"
            ) from exc
    return networks


def texted_countries() -> list[str]:
    """The countries whose mobile numbers the brand texts (ISO 3166 codes such as ``US``);
    the first is the brand's own, whose numbers the pages write in national format."""
    name = "PREFCENTER_TEXTED_COUNTRIES"
    value = _raw(name)
    items = value.split(",") if isinstance(value, str) else list(value or [])
    codes = [str(item).strip().upper() for item in items if str(item).strip()]
    known = phonenumbers.SUPPORTED_REGIONS
    if not codes or any(code not in known for code in codes):
        raise _invalid(name, value, 'comma-separated country codes such as "US" or "US,CA"')
    return codes


def validate_all() -> list[str]:
    """Every problem with the current values, as messages (used by the system check)."""
    problems = []
    for check in (
        brand_name,
        link_max_age,
        trusted_proxies,
        texted_countries,
        *(lambda n=n: rate(n) for n in DEFAULTS if "_LIMIT_" in n),
    ):
        try:
            check()
        except ImproperlyConfigured as exc:
            problems.append(str(exc))
    return problems
