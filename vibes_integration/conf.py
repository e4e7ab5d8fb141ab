"""The one accessor for the Vibes integration's settings.

Code reads ``get_setting("VIBES_RATE_LIMIT")`` at call time, never at import time, so
that tests and ``override_settings`` see the current value. A missing or empty required
value raises ``ImproperlyConfigured`` naming the environment variable to set.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    "VIBES_API_URL": "http://127.0.0.1:8001",
    "VIBES_COMPANY_KEY": None,
    "VIBES_USERNAME": None,
    "VIBES_PASSWORD": None,
    "VIBES_RATE_LIMIT": 100,
    "VIBES_CONNECT_TIMEOUT": 3.05,
    "VIBES_READ_TIMEOUT": 10.0,
    "VIBES_CALLBACK_CREDENTIALS": [],
    "VIBES_CALLBACK_TOKENS": [],
    "VIBES_CALLBACK_ALLOWED_IPS": ["*"],
    "VIBES_TRUSTED_PROXIES": [],
    "VIBES_CALLBACK_BASE_URL": "",
    "VIBES_CALLBACK_MAX_BODY_BYTES": 256 * 1024,
}

REQUIRED = {"VIBES_API_URL", "VIBES_COMPANY_KEY", "VIBES_USERNAME", "VIBES_PASSWORD"}


def get_setting(name: str) -> Any:
    if name not in DEFAULTS:
        raise KeyError(f"{name} is not a Vibes integration setting")
    value = getattr(settings, name, DEFAULTS[name])
    if name in REQUIRED and not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Set the environment variable {name} "
            "(see the configuration table in README.md)."
        )
    return value
