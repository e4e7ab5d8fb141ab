"""The project's settings: Django's own, logging, workers, metrics, retention, erasure."""

from __future__ import annotations

from prefcenter.settings_registry import parsers as p
from prefcenter.settings_registry.entry import Reader, Setting

DEVELOPMENT_SECRET_KEY = "django-insecure-prefcenter-development-key-do-not-use-in-production"
DEVELOPMENT_HOSTS = "127.0.0.1,localhost,[::1]"


def _production(read: Reader) -> bool:
    return read("DJANGO_ENV") == "production"


SETTINGS = [
    Setting(
        "DJANGO_ENV",
        "development",
        p.one_of("development", "production"),
        "`development` or `production`; production refuses unsafe settings.",
        "django",
    ),
    Setting(
        "DEBUG",
        lambda read: not _production(read),
        p.boolean,
        "Django debug mode (`1`/`0`, `true`/`false`, `yes`/`no`, `on`/`off`).",
        "django",
        shown_default="on in development, off in production",
    ),
    Setting(
        "SECRET_KEY",
        lambda read: "" if _production(read) else DEVELOPMENT_SECRET_KEY,
        p.text,
        "Django secret key; in production required, 50 characters or more.",
        "django",
        shown_default="a development key",
    ),
    Setting(
        "ALLOWED_HOSTS",
        lambda read: "" if _production(read) else DEVELOPMENT_HOSTS,
        p.text_list,
        "Comma-separated host names; required in production.",
        "django",
        shown_default=f"`{DEVELOPMENT_HOSTS}` in development",
    ),
    Setting(
        "CSRF_TRUSTED_ORIGINS",
        "",
        p.text_list,
        "Comma-separated origins (`https://example.com`) trusted for CSRF.",
        "django",
    ),
    Setting(
        "DATABASE_URL",
        "",
        p.text,
        "Database URL, e.g. `postgres://user:password@host:5432/prefcenter`.",
        "django",
        shown_default="SQLite file `var/prefcenter.sqlite3` (WAL mode)",
    ),
    Setting(
        "CACHE_URL",
        "",
        p.text,
        "Optional shared cache (`redis://host:6379/0`).",
        "django",
        shown_default="local memory",
    ),
    Setting(
        "EMAIL_URL",
        "",
        p.text,
        "SMTP server: `smtp://user:password@host:25`, or "
        "`smtp+tls://user:password@host:587` for STARTTLS.",
        "django",
        shown_default="console (mail printed, not sent)",
    ),
    Setting(
        "ADMINS",
        "",
        p.text_list,
        "Comma-separated e-mail addresses told about problems (a paused webhook endpoint, "
        "see [docs/webhooks.md](docs/webhooks.md)).",
        "django",
    ),
    Setting(
        "DEFAULT_FROM_EMAIL",
        "prefcenter@localhost",
        p.text,
        "Sender of preference-center link emails.",
        "django",
    ),
    Setting(
        "SITE_URL",
        "http://127.0.0.1:8000",
        p.text,
        "Public base URL used in links sent to subscribers; https in production.",
        "django",
    ),
    Setting(
        "PREFCENTER_LOG_LEVELS",
        "",
        p.log_levels,
        "Log levels by logger, `name=LEVEL` pairs separated by commas (`root` for every "
        "logger not named), e.g. `django_tasks=WARNING`; `make run` sets it (see "
        "[docs/run.md](docs/run.md#how-much-it-prints)).",
        "project",
    ),
    Setting(
        "PREFCENTER_LOG_FORMAT",
        "full",
        p.one_of("full", "short"),
        "`full`: date, time, level, logger and message; `short`: time, level and message "
        "(what `make run` uses).",
        "project",
    ),
    Setting(
        "PREFCENTER_WORKER_STALE_SECONDS",
        "120",
        p.positive_int,
        "Seconds without a heartbeat after which a worker counts as gone; `/healthz/workers` "
        "answers 503 when work waits and no task worker is seen (see "
        "[docs/sync.md](docs/sync.md#workers-outages-and-heartbeats)).",
        "project",
    ),
    Setting(
        "PREFCENTER_METRICS_TOKEN",
        "",
        p.text,
        "Secret a scraper sends as `Authorization: Bearer <token>` to read `/metrics`; while "
        "neither this nor `PREFCENTER_METRICS_ALLOWED_IPS` is set, `/metrics` answers 404 "
        "(see [docs/sync.md](docs/sync.md#metrics)).",
        "project",
    ),
    Setting(
        "PREFCENTER_METRICS_ALLOWED_IPS",
        "",
        p.address_list,
        "Comma-separated addresses or networks that may read `/metrics` without the token "
        "(the client address as `VIBES_TRUSTED_PROXIES` makes it); others get 403.",
        "project",
    ),
    Setting(
        "PREFCENTER_CALLBACK_BODY_RETENTION_DAYS",
        "90",
        p.positive_int,
        "Days the raw body, headers and parsed body of a settled Vibes callback are kept; "
        "then the sweep empties them (its event id, type, status, dates and links to the "
        "person and list stay).",
        "access",
    ),
    Setting(
        "PREFCENTER_CALL_LOG_RETENTION_DAYS",
        "90",
        p.positive_int,
        "Days the log of calls made to Vibes is kept; then the sweep deletes them (the "
        "outbox's own `VIBES_SYNC_RETENTION_DAYS` also deletes settled operations and calls: "
        "the shorter one wins).",
        "access",
    ),
    Setting(
        "PREFCENTER_LEDGER_NETWORK_RETENTION_DAYS",
        "1826",
        p.positive_int,
        "Days the client address and user agent of a consent-ledger line are kept; then the "
        "sweep blanks them (the line itself is kept forever).",
        "access",
        shown_default="`1826` (five years)",
    ),
    Setting(
        "PREFCENTER_ERASURE_HASH_KEY",
        "",
        p.text,
        "Secret key of the HMAC-SHA256 hashes that stand for an erased person's number and "
        "email; required in production (32 characters or more, check `prefcenter.E701`); "
        "never change it once erasures exist ([docs/privacy.md](docs/privacy.md)).",
        "privacy",
        shown_default="empty (falls back to `SECRET_KEY`)",
    ),
    Setting(
        "PREFCENTER_ERASURE_DEADLINE_DAYS",
        "30",
        p.positive_int,
        "Days within which an erasure request must be finished in the CRM and in Vibes; the "
        "sync dashboard warns in the last quarter of that time.",
        "privacy",
    ),
    Setting(
        "VIBES_ERASURE_COMPANY_KEYS",
        "",
        p.text_list,
        "Comma-separated extra Vibes company keys (same credentials) in which an erased "
        "number is also nullified; `VIBES_COMPANY_KEY` always is.",
        "privacy",
    ),
    Setting(
        "PREFCENTER_ADMIN_USERNAME",
        "admin",
        p.text,
        "User name of the admin user `ensure_admin` creates.",
        "admin",
    ),
    Setting(
        "PREFCENTER_ADMIN_EMAIL",
        "",
        p.text,
        "E-mail address of the admin user `ensure_admin` creates.",
        "admin",
    ),
    Setting(
        "PREFCENTER_ADMIN_PASSWORD",
        "",
        p.text,
        "Password of the admin user `ensure_admin` creates; when empty, one is generated and "
        "printed once (`make run` keeps it in `var/`).",
        "admin",
        shown_default="empty (generated)",
    ),
]
