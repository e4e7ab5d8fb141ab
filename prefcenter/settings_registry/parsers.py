"""Parsers of setting values, one per kind of value.

Each takes what an operator wrote — a string from the environment, or a Python value from a
Django setting (a list, an int, a ``timedelta``, a bool) — and returns the typed value the
code uses, or raises ``ValueError`` saying what to write instead. The accessor
(``prefcenter.conf``) turns that into ``ImproperlyConfigured`` naming the setting.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

import phonenumbers

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PERSON_ATTRIBUTES = ("first_name", "last_name", "email")


def text(value: Any) -> str:
    return str(value)


def required_text(value: Any) -> str:
    result = str(value).strip()
    if not result:
        raise ValueError("expected a value; it must not be empty")
    return result


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def text_list(value: Any) -> list[str]:
    """``a, b,c`` or a list into ``["a", "b", "c"]`` (blank items dropped)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def _number(value: Any, kind: type) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return kind(value.strip() if isinstance(value, str) else value)


def positive_int(value: Any) -> int:
    try:
        number = _number(value, int)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ValueError("expected a whole number greater than zero, such as 30")
    return number


def positive_float(value: Any) -> float:
    try:
        number = _number(value, float)
    except (TypeError, ValueError):
        number = 0.0
    if not number > 0:
        raise ValueError("expected a number greater than zero, such as 2.5")
    return number


def fraction(value: Any) -> float:
    number = _number(value, float)
    if not 0 < number <= 1:
        raise ValueError("expected a number above 0 and at most 1, such as 0.97")
    return number


def jitter(value: Any) -> float:
    number = _number(value, float)
    if not 0 <= number < 1:
        raise ValueError("expected a fraction from 0 up to (not including) 1, such as 0.2")
    return number


def seconds(value: Any) -> int:
    """Whole seconds, from a number or (in a Django setting) a ``timedelta``."""
    if isinstance(value, datetime.timedelta):
        value = int(value.total_seconds())
    try:
        number = _number(value, int)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ValueError("expected a whole number of seconds greater than zero, such as 86400")
    return number


def schedule(value: Any) -> tuple[float, ...]:
    delays = tuple(float(item) for item in text_list(value))
    if not delays or any(not delay > 0 for delay in delays):
        raise ValueError("expected comma-separated seconds above zero, such as 5,300,1800")
    return delays


def one_of(*choices: str):
    """A parser accepting only ``choices`` (case-insensitive)."""

    def parse(value: Any) -> str:
        word = str(value).strip().lower()
        if word not in choices:
            raise ValueError(f"expected {' or '.join(choices)}")
        return word

    return parse


def log_levels(value: Any) -> dict[str, str]:
    """``name=LEVEL,...`` (``root`` for the root logger), or a dict, into ``{name: LEVEL}``."""
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        pairs = [item.partition("=")[::2] for item in text_list(value)]
    levels = {}
    for name, level in pairs:
        if not str(name).strip() or str(level).strip().upper() not in LOG_LEVELS:
            raise ValueError(
                f"expected logger=LEVEL pairs with LEVEL one of {', '.join(LOG_LEVELS)}, "
                "such as django_tasks=WARNING,root=INFO"
            )
        levels[str(name).strip()] = str(level).strip().upper()
    return levels


def address_list(value: Any) -> list[str]:
    """Addresses or networks (10.0.0.0/8), or ``*`` for any; every entry must be readable."""
    entries = text_list(value)
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an address or network; write e.g. 10.0.0.0/8,192.0.2.7"
            ) from None
    return entries


def networks(value: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in address_list(value)]


def credential_pairs(value: Any) -> list[tuple[str, str]]:
    """``user:password`` pairs separated by commas (or a list of pairs), so that a new pair
    can be added before the old one is removed (rotation)."""
    items = text_list(value) if isinstance(value, str) else list(value)
    pairs = []
    for item in items:
        if isinstance(item, str):
            user, sep, password = item.partition(":")
        else:
            (user, password), sep = item, ":"
        if not sep or not user or not password:
            raise ValueError("expected comma-separated user:password pairs")
        pairs.append((str(user), str(password)))
    return pairs


def field_map(value: Any) -> dict[str, str]:
    """Person attribute → Vibes custom field, as JSON or a dict."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        raise ValueError('expected a JSON object such as {"first_name": "first_name"}')
    unknown = set(value) - set(PERSON_ATTRIBUTES)
    if unknown:
        raise ValueError(
            f"only {', '.join(PERSON_ATTRIBUTES)} can be mapped, not {', '.join(sorted(unknown))}"
        )
    return dict(value)


def country_codes(value: Any) -> list[str]:
    codes = [code.upper() for code in text_list(value)]
    if not codes or any(code not in phonenumbers.SUPPORTED_REGIONS for code in codes):
        raise ValueError('expected comma-separated country codes such as "US" or "US,CA"')
    return codes


API_RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")


def api_rate(value: Any) -> str | None:
    """Requests per client in Django REST framework's form (``"1200/min"``); ``off``: None."""
    word = str(value).strip().lower()
    if word == "off":
        return None
    if not API_RATE_PATTERN.match(word):
        raise ValueError(
            "expected a count per period such as '1200/min', '20/s', '50000/day', or 'off'"
        )
    return word.replace(" ", "")


@dataclass(frozen=True)
class Rate:
    """At most ``count`` events per ``seconds``."""

    count: int
    seconds: int


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


def rate_limit(value: Any) -> Rate | None:
    """``"10/1h"`` → ``Rate(10, 3600)``; ``"off"`` → None (no limit)."""
    if isinstance(value, Rate):
        return value
    word = str(value).strip().lower()
    if word in {"off", "none"}:
        return None
    match = _LIMIT.match(word)
    count = int(match.group(1)) if match else 0
    multiplier = int(match.group(2) or 1) if match else 0
    if count <= 0 or multiplier <= 0:
        raise ValueError('expected a count per period such as "10/1h", "3/15m", "50/1d", or "off"')
    return Rate(count=count, seconds=multiplier * _UNITS[match.group(3)])
