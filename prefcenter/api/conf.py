"""The one accessor for the API's settings.

Each value is read at call time (so ``override_settings`` works) from Django's settings,
then from the environment variable of the same name, then from ``DEFAULTS``. A value that
cannot be understood raises ``ImproperlyConfigured`` naming the setting and what it should
look like.
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    "PREFCENTER_API_RATE": "1200/min",
    "PREFCENTER_API_IDEMPOTENCY_TTL": 24 * 3600,
    "PREFCENTER_API_LAST_USED_INTERVAL": 60,
    "PREFCENTER_API_PAGE_SIZE": 100,
}

RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")


def _raw(name: str) -> Any:
    if name not in DEFAULTS:
        raise KeyError(f"{name} is not an API setting")
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    if value is None or value == "":
        value = DEFAULTS[name]
    return value


def _positive_int(name: str) -> int:
    value = _raw(name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0 or isinstance(value, bool):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not valid: expected a whole number greater than zero."
        )
    return number


def rate() -> str | None:
    """Requests per client, in DRF's form (``"1200/min"``); ``"off"`` for no limit."""
    value = str(_raw("PREFCENTER_API_RATE")).strip().lower()
    if value == "off":
        return None
    if not RATE_PATTERN.match(value):
        raise ImproperlyConfigured(
            f"PREFCENTER_API_RATE={value!r} is not valid: expected a count per period such as "
            "'1200/min', '20/s', '50000/day', or 'off'."
        )
    return value.replace(" ", "")


def idempotency_ttl() -> int:
    """Seconds an ``Idempotency-Key`` and its first answer are kept."""
    return _positive_int("PREFCENTER_API_IDEMPOTENCY_TTL")


def last_used_interval() -> int:
    """Seconds between two writes of a key's last-used time."""
    return _positive_int("PREFCENTER_API_LAST_USED_INTERVAL")


def page_size() -> int:
    return _positive_int("PREFCENTER_API_PAGE_SIZE")
