"""Settings of the outbound sync, read at call time.

Each ``VIBES_SYNC_*`` value comes from the Django setting of that name, else from the
environment variable of that name, else from the documented default below. Values are
parsed and checked here, so that a bad value fails with a message naming the variable
instead of misbehaving in a worker hours later. The Vibes settings the sync shares with
the rest of the integration (``VIBES_RATE_LIMIT``, credentials) are read through
``vibes_integration.conf.get_setting``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from vibes_integration.conf import get_setting


def _positive_int(value: Any) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("expected a whole number above zero")
    return number


def _positive_float(value: Any) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError("expected a number above zero")
    return number


def _fraction(value: Any) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise ValueError("expected a number above 0 and at most 1")
    return number


def _limiter_backend(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in {"auto", "database", "cache"}:
        raise ValueError("expected auto, database or cache")
    return text


def _field_map(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        raise ValueError('expected a JSON object such as {"first_name": "first_name"}')
    allowed = {"first_name", "last_name", "email"}
    unknown = set(value) - allowed
    if unknown:
        raise ValueError(f"only {', '.join(sorted(allowed))} can be mapped, not {unknown}")
    return dict(value)


@dataclass(frozen=True)
class SyncSetting:
    default: Any
    parse: Callable[[Any], Any]
    help: str


SETTINGS: dict[str, SyncSetting] = {
    "VIBES_SYNC_PERSON_FIELDS": SyncSetting(
        {"first_name": "first_name", "last_name": "last_name", "email": "email"},
        _field_map,
        "Which Person attributes are sent to which Vibes custom field "
        '(JSON, e.g. {"first_name": "first_name", "email": "email"}).',
    ),
    "VIBES_SYNC_BATCH_SIZE": SyncSetting(
        100, _positive_int, "Operations one sync task claims and sends at a time."
    ),
    "VIBES_SYNC_TASK_SECONDS": SyncSetting(
        5.0,
        _positive_float,
        "Seconds one sync task keeps sending before it hands the worker to other tasks.",
    ),
    # Calls in flight = rate x time per call: 16 keep one worker at 100 calls/s while a
    # call (with the thread's wake-up on a busy host) takes up to 160 ms.
    "VIBES_SYNC_CONCURRENCY": SyncSetting(
        16, _positive_int, "Calls to Vibes one worker keeps in flight at once."
    ),
    "VIBES_SYNC_MAX_ATTEMPTS": SyncSetting(
        10, _positive_int, "Attempts before an operation that keeps failing is marked failed."
    ),
    "VIBES_SYNC_BACKOFF_BASE": SyncSetting(
        2.0, _positive_float, "Seconds before the first retry; doubled for each further one."
    ),
    "VIBES_SYNC_BACKOFF_MAX": SyncSetting(
        300.0, _positive_float, "Longest wait between two attempts, in seconds."
    ),
    "VIBES_SYNC_LEASE_SECONDS": SyncSetting(
        120.0,
        _positive_float,
        "How long a worker owns the operations it claimed; after that (a worker that "
        "died) the sweep gives them to another worker.",
    ),
    "VIBES_SYNC_SWEEP_INTERVAL": SyncSetting(
        30.0, _positive_float, "Seconds between two sweeps of `vibes_sync --loop`."
    ),
    "VIBES_SYNC_RETENTION_DAYS": SyncSetting(
        30, _positive_int, "Days that finished operations and the call log are kept."
    ),
    "VIBES_SYNC_RATE_LIMITER": SyncSetting(
        "auto",
        _limiter_backend,
        "Where workers share the rate limit: `database`, `cache` (a shared cache such as "
        "Redis) or `auto` (the cache when CACHE_URL points at Redis or Memcached, else the "
        "database).",
    ),
    "VIBES_SYNC_RATE_HEADROOM": SyncSetting(
        0.97,
        _fraction,
        "Share of VIBES_RATE_LIMIT the sync paces itself to, so that network jitter "
        "never pushes a second over Vibes' limit.",
    ),
}


def sync_setting(name: str) -> Any:
    """The parsed value of ``name``: a Django setting, else the environment, else default."""
    try:
        spec = SETTINGS[name]
    except KeyError:
        raise KeyError(f"{name} is not a Vibes sync setting") from None
    if hasattr(settings, name):
        raw, origin = getattr(settings, name), "the Django setting"
    elif name in os.environ:
        raw, origin = os.environ[name], "the environment variable"
    else:
        return spec.default
    try:
        return spec.parse(raw)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"{origin} {name}={raw!r} is not valid: {exc}. {spec.help}"
        ) from exc


def rate_limit() -> int:
    """Vibes' calls per second per company, shared by all workers."""
    return int(get_setting("VIBES_RATE_LIMIT"))


def company_key() -> str:
    return str(get_setting("VIBES_COMPANY_KEY"))
