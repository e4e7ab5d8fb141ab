"""The one accessor for the webhooks' settings, read at call time.

Each ``WEBHOOK_*`` value comes from the Django setting of that name, else from the
environment variable of that name, else from the documented default below. A value that
cannot be parsed raises ``ImproperlyConfigured`` naming the variable, and the system check
``webhooks.E001`` reports it at start-up instead of a worker failing hours later.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from prefcenter.conf import parse_bool


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


def _jitter(value: Any) -> float:
    number = float(value)
    if not 0 <= number < 1:
        raise ValueError("expected a fraction from 0 up to (not including) 1")
    return number


def _boolean(value: Any) -> bool:
    return value if isinstance(value, bool) else parse_bool(str(value))


def _schedule(value: Any) -> tuple[float, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    delays = tuple(float(item) for item in items if str(item).strip())
    if not delays or any(not delay > 0 for delay in delays):
        raise ValueError("expected comma-separated seconds above zero, such as 5,300,1800")
    return delays


@dataclass(frozen=True)
class WebhookSetting:
    default: Any
    parse: Callable[[Any], Any]
    help: str


SETTINGS: dict[str, WebhookSetting] = {
    # The Standard Webhooks specification's example schedule: 5 s, 5 min, 30 min, 2 h,
    # 5 h, 10 h, 10 h after the first attempt fails (eight attempts over about 28 hours).
    "WEBHOOK_RETRY_SCHEDULE": WebhookSetting(
        "5,300,1800,7200,18000,36000,36000",
        _schedule,
        "Seconds to wait before each retry, comma-separated; one retry per item.",
    ),
    "WEBHOOK_RETRY_JITTER": WebhookSetting(
        0.2,
        _jitter,
        "Each wait is spread at random by up to this fraction, so that retries of many "
        "deliveries do not arrive together.",
    ),
    "WEBHOOK_CONNECT_TIMEOUT": WebhookSetting(
        3.05, _positive_float, "Seconds to wait for a connection to an endpoint."
    ),
    "WEBHOOK_READ_TIMEOUT": WebhookSetting(
        10.0, _positive_float, "Seconds to wait for an endpoint to answer."
    ),
    "WEBHOOK_PAUSE_AFTER_FAILURES": WebhookSetting(
        5,
        _positive_int,
        "Consecutive deliveries that failed for good (every retry used) before an "
        "endpoint is paused.",
    ),
    "WEBHOOK_PAUSE_AFTER_HOURS": WebhookSetting(
        24.0,
        _positive_float,
        "Hours an endpoint may fail without a single success before it is paused.",
    ),
    "WEBHOOK_SECRET_GRACE_HOURS": WebhookSetting(
        24.0,
        _positive_float,
        "Hours the previous secret keeps signing beside the new one after a rotation.",
    ),
    "WEBHOOK_FULL_MDN": WebhookSetting(
        False,
        _boolean,
        "Send the subscriber's full mobile number in events (default: masked, +1•••••1234).",
    ),
    "WEBHOOK_BATCH_SIZE": WebhookSetting(
        50, _positive_int, "Deliveries one task claims at a time."
    ),
    "WEBHOOK_CONCURRENCY": WebhookSetting(8, _positive_int, "Deliveries one worker sends at once."),
    "WEBHOOK_TASK_SECONDS": WebhookSetting(
        5.0,
        _positive_float,
        "Seconds one delivery task keeps sending before it hands the worker to other tasks.",
    ),
    "WEBHOOK_LEASE_SECONDS": WebhookSetting(
        120.0,
        _positive_float,
        "How long a worker owns the deliveries it claimed; after that (a worker that "
        "died) another worker sends them.",
    ),
    "WEBHOOK_RETENTION_DAYS": WebhookSetting(
        30, _positive_int, "Days that delivered events and their attempts are kept."
    ),
}


def webhook_setting(name: str) -> Any:
    """The parsed value of ``name``: a Django setting, else the environment, else default."""
    try:
        spec = SETTINGS[name]
    except KeyError:
        raise KeyError(f"{name} is not a webhook setting") from None
    if hasattr(settings, name):
        raw, origin = getattr(settings, name), "the Django setting"
    elif name in os.environ:
        raw, origin = os.environ[name], "the environment variable"
    else:
        raw, origin = spec.default, "the default"
    try:
        return spec.parse(raw)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"{origin} {name}={raw!r} is not valid: {exc}. {spec.help}"
        ) from exc
