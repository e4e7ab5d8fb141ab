"""Reads prefcenter's configuration from the environment.

Every setting that an operator may change is declared once in ``ENV_SETTINGS`` with its
default and a parser, so that ``settings.py``, the README's configuration table and the
system checks all agree. A value that cannot be parsed raises ``ImproperlyConfigured``
naming the variable and what it should look like, instead of failing later in a request.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_SECRET_KEY = "django-insecure-prefcenter-development-key-do-not-use-in-production"

VIBES_US_CALLBACK_ADDRESSES = (
    "35.155.139.143",
    "52.32.61.199",
    "35.161.244.84",
    "18.205.120.48",
    "52.22.43.57",
    "18.232.9.131",
)
VIBES_EU_CALLBACK_ADDRESSES = (
    "34.243.232.57",
    "52.48.241.82",
    "34.249.188.130",
    "54.247.36.51",
    "34.253.250.65",
    "54.217.181.160",
)


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("expected a whole number greater than zero")
    return value


def parse_positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("expected a number greater than zero")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parse_log_levels(raw: str) -> dict[str, str]:
    """``name=LEVEL,...`` (``root`` for the root logger) into ``{name: LEVEL}``."""
    levels = {}
    for item in parse_list(raw):
        name, sep, level = item.partition("=")
        if not sep or not name.strip() or level.strip().upper() not in LOG_LEVELS:
            raise ValueError(
                f"expected logger=LEVEL pairs with LEVEL one of {', '.join(LOG_LEVELS)}"
            )
        levels[name.strip()] = level.strip().upper()
    return levels


def parse_log_format(raw: str) -> str:
    if raw not in {"full", "short"}:
        raise ValueError("expected full or short")
    return raw


def parse_address_list(raw: str) -> list[str]:
    """Comma-separated addresses or networks (10.0.0.0/8), or ``*`` for any."""
    entries = parse_list(raw)
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an address or network") from None
    return entries


def parse_credential_pairs(raw: str) -> list[tuple[str, str]]:
    """``user:password`` pairs separated by commas, so that a new pair can be added
    before the old one is removed (rotation)."""
    pairs = []
    for item in parse_list(raw):
        user, sep, password = item.partition(":")
        if not sep or not user or not password:
            raise ValueError("expected comma-separated user:password pairs")
        pairs.append((user, password))
    return pairs


@dataclass(frozen=True)
class EnvSetting:
    name: str
    default: str
    parse: Callable[[str], Any]
    help: str


_SETTINGS = [
    EnvSetting(
        "DJANGO_ENV",
        "development",
        str,
        "`development` or `production`; production refuses unsafe settings.",
    ),
    EnvSetting("DEBUG", "", parse_bool, "Django debug mode; on by default in development only."),
    EnvSetting("SECRET_KEY", "", str, "Django secret key; required in production."),
    EnvSetting(
        "ALLOWED_HOSTS", "", parse_list, "Comma-separated host names; required in production."
    ),
    EnvSetting(
        "CSRF_TRUSTED_ORIGINS",
        "",
        parse_list,
        "Comma-separated origins (https://example.com) trusted for CSRF.",
    ),
    EnvSetting(
        "DATABASE_URL",
        "",
        str,
        "Database URL; default: SQLite file `var/prefcenter.sqlite3` (WAL mode).",
    ),
    EnvSetting("CACHE_URL", "", str, "Optional shared cache (redis://...); default: local memory."),
    EnvSetting(
        "EMAIL_URL", "", str, "Optional SMTP server (smtp://user:pass@host:port); default: console."
    ),
    EnvSetting(
        "ADMINS",
        "",
        parse_list,
        "Comma-separated e-mail addresses told about problems (a paused webhook endpoint).",
    ),
    EnvSetting(
        "DEFAULT_FROM_EMAIL",
        "prefcenter@localhost",
        str,
        "Sender of preference-center link emails.",
    ),
    EnvSetting(
        "SITE_URL",
        "http://127.0.0.1:8000",
        str,
        "Public base URL used in links sent to subscribers.",
    ),
    EnvSetting(
        "PREFCENTER_LOG_LEVELS",
        "",
        parse_log_levels,
        "Log levels by logger, `name=LEVEL` pairs separated by commas (`root` for every "
        "logger not named); `make run` sets it to keep its output short.",
    ),
    EnvSetting(
        "PREFCENTER_LOG_FORMAT",
        "full",
        parse_log_format,
        "`full`: date, time, level, logger and message; `short`: time, level and message.",
    ),
    EnvSetting(
        "PREFCENTER_WORKER_STALE_SECONDS",
        "120",
        parse_positive_int,
        "Seconds without a heartbeat after which a worker counts as gone "
        "(`/healthz/workers` answers 503 when work waits and no task worker is seen).",
    ),
    EnvSetting(
        "PREFCENTER_CALLBACK_BODY_RETENTION_DAYS",
        "90",
        parse_positive_int,
        "Days the raw body, headers and parsed body of a settled Vibes callback are kept; "
        "the sweep then empties them (the event's id, type, dates and links stay).",
    ),
    EnvSetting(
        "PREFCENTER_CALL_LOG_RETENTION_DAYS",
        "90",
        parse_positive_int,
        "Days the log of calls made to Vibes is kept; the sweep deletes older calls.",
    ),
    EnvSetting(
        "PREFCENTER_LEDGER_NETWORK_RETENTION_DAYS",
        "1826",
        parse_positive_int,
        "Days the client address and user agent of a consent-ledger line are kept; the sweep "
        "then blanks them (the line itself is kept forever).",
    ),
    EnvSetting(
        "PREFCENTER_METRICS_TOKEN",
        "",
        str,
        "Secret a scraper sends as `Authorization: Bearer <token>` to read `/metrics`; "
        "`/metrics` answers 404 while neither this nor PREFCENTER_METRICS_ALLOWED_IPS is set.",
    ),
    EnvSetting(
        "PREFCENTER_METRICS_ALLOWED_IPS",
        "",
        parse_address_list,
        "Comma-separated addresses or networks that may read `/metrics` without the token "
        "(behind a proxy, see VIBES_TRUSTED_PROXIES).",
    ),
    EnvSetting(
        "PREFCENTER_ERASURE_HASH_KEY",
        "",
        str,
        "Secret key of the HMAC-SHA256 hashes that stand for an erased person's number and "
        "email; required in production, never to be changed once erasures exist.",
    ),
    EnvSetting(
        "PREFCENTER_ERASURE_DEADLINE_DAYS",
        "30",
        parse_positive_int,
        "Days within which an erasure request must be finished (CRM and Vibes); the sync "
        "dashboard warns in the last quarter of that time.",
    ),
    EnvSetting(
        "VIBES_ERASURE_COMPANY_KEYS",
        "",
        parse_list,
        "Comma-separated extra Vibes company keys (same credentials) in which an erased "
        "number is also nullified; VIBES_COMPANY_KEY always is.",
    ),
    EnvSetting(
        "VIBES_API_URL",
        "http://127.0.0.1:8001",
        str,
        "Vibes API host: https://public-api.vibescm.com (US), "
        "https://public-api.eu.vibes.com (EU), or the local sandbox.",
    ),
    EnvSetting("VIBES_COMPANY_KEY", "demo", str, "Vibes company key."),
    EnvSetting("VIBES_USERNAME", "demo", str, "Vibes API user."),
    EnvSetting("VIBES_PASSWORD", "demo-password", str, "Vibes API password."),
    EnvSetting(
        "VIBES_RATE_LIMIT",
        "100",
        parse_positive_int,
        "Calls per second per company, across all workers.",
    ),
    EnvSetting(
        "VIBES_CONNECT_TIMEOUT",
        "3.05",
        parse_positive_float,
        "Seconds to wait for a connection to Vibes.",
    ),
    EnvSetting(
        "VIBES_READ_TIMEOUT", "10", parse_positive_float, "Seconds to wait for Vibes to answer."
    ),
    EnvSetting(
        "VIBES_CALLBACK_USERNAME",
        "",
        str,
        "Basic-auth user Vibes must send to the callback endpoint.",
    ),
    EnvSetting(
        "VIBES_CALLBACK_PASSWORD", "", str, "Basic-auth password for VIBES_CALLBACK_USERNAME."
    ),
    EnvSetting(
        "VIBES_CALLBACK_CREDENTIALS",
        "",
        parse_credential_pairs,
        "More accepted user:password pairs, comma-separated (rotation).",
    ),
    EnvSetting(
        "VIBES_CALLBACK_TOKENS",
        "",
        parse_list,
        "Comma-separated secret path tokens (/vibes/callbacks/<token>/).",
    ),
    EnvSetting(
        "VIBES_CALLBACK_ALLOWED_IPS",
        ",".join(VIBES_US_CALLBACK_ADDRESSES + VIBES_EU_CALLBACK_ADDRESSES),
        parse_list,
        "Addresses or networks allowed to call the endpoint; `*` allows all. "
        "Default: Vibes' published US and EU addresses.",
    ),
    EnvSetting(
        "VIBES_TRUSTED_PROXIES",
        "",
        parse_list,
        "Addresses or networks of load balancers whose X-Forwarded-For is trusted.",
    ),
    EnvSetting(
        "VIBES_CALLBACK_BASE_URL",
        "",
        str,
        "Public URL of the callback endpoint to register with Vibes; "
        "default: SITE_URL + /vibes/callbacks/.",
    ),
    EnvSetting(
        "VIBES_CALLBACK_MAX_BODY_BYTES",
        "262144",
        parse_positive_int,
        "Callback bodies larger than this many bytes are stored truncated to it, marked.",
    ),
]

ENV_SETTINGS: dict[str, EnvSetting] = {spec.name: spec for spec in _SETTINGS}


def env(name: str, default: str | None = None) -> Any:
    """Return the parsed value of environment variable ``name``.

    ``default`` overrides the declared default (used where the default depends on
    another setting, such as DEBUG on in development only).
    """
    spec = ENV_SETTINGS[name]
    raw = os.environ.get(name)
    if raw is None:
        raw = spec.default if default is None else default
    try:
        return spec.parse(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"Environment variable {name}={raw!r} is not valid: {exc}. {spec.help}"
        ) from exc
