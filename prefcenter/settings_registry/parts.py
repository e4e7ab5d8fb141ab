"""Settings of the preference center, the API and the webhooks."""

from __future__ import annotations

from prefcenter.settings_registry import parsers as p
from prefcenter.settings_registry.entry import Setting


def _limit(name: str, default: str, counts: str) -> Setting:
    return Setting(
        name,
        default,
        p.rate_limit,
        f"{counts}; `<count>/<period>` with a period in `s`, `m`, `h` or `d`, or `off`.",
        "preferences",
    )


PREFERENCES = [
    Setting(
        "PREFCENTER_BRAND_NAME",
        "Northwind Outfitters",
        p.text,
        "The brand subscribers see in the header, emails and default disclosure.",
        "preferences",
    ),
    Setting(
        "PREFCENTER_LINK_MAX_AGE",
        "2592000",
        p.seconds,
        "Seconds a preference-center link works (a whole number, or a `timedelta` in Django "
        "settings).",
        "preferences",
        shown_default="`2592000` (30 days)",
    ),
    Setting(
        "PREFCENTER_TRUSTED_PROXIES",
        lambda read: read("VIBES_TRUSTED_PROXIES"),
        p.networks,
        "Comma-separated addresses or networks whose `X-Forwarded-For` is believed on the "
        "preference pages; the same load balancers usually front the callback endpoint.",
        "preferences",
        shown_default="`VIBES_TRUSTED_PROXIES`",
    ),
    Setting(
        "PREFCENTER_TEXTED_COUNTRIES",
        "US",
        p.country_codes,
        "Comma-separated country codes whose mobile numbers the brand texts; the first is the "
        "brand's own (its numbers are shown in national format, others in E.164).",
        "preferences",
    ),
    _limit(
        "PREFCENTER_OPT_IN_LIMIT_PER_PERSON", "10/1h", "Confirmation texts asked for one person"
    ),
    _limit(
        "PREFCENTER_OPT_IN_LIMIT_PER_NUMBER",
        "10/1d",
        "Confirmation texts to one number, across all persons",
    ),
    _limit(
        "PREFCENTER_OPT_IN_LIMIT_PER_ADDRESS",
        "20/1h",
        "Confirmation texts asked from one client address",
    ),
    _limit("PREFCENTER_LINK_LIMIT_PER_ADDRESS", "10/1h", "Link requests from one client address"),
    _limit("PREFCENTER_LINK_LIMIT_PER_EMAIL", "3/1h", "Link requests for one email address"),
]

API = [
    Setting(
        "PREFCENTER_API_RATE",
        "1200/min",
        p.api_rate,
        "Requests per client (`N/s`, `N/min`, `N/hour`, `N/day`, or `off`); a client's own "
        "rate in the admin wins.",
        "api",
    ),
    Setting(
        "PREFCENTER_API_IDEMPOTENCY_TTL",
        "86400",
        p.positive_int,
        "Seconds an `Idempotency-Key` and its answer are kept.",
        "api",
    ),
    Setting(
        "PREFCENTER_API_LAST_USED_INTERVAL",
        "60",
        p.positive_int,
        "Seconds between two writes of a key's last-used time.",
        "api",
    ),
    Setting(
        "PREFCENTER_API_PAGE_SIZE",
        "100",
        p.positive_int,
        "Rows per page when the client does not say.",
        "api",
    ),
]

WEBHOOKS = [
    Setting(
        # The Standard Webhooks specification's example schedule: 5 s, 5 min, 30 min, 2 h,
        # 5 h, 10 h, 10 h after the first attempt fails (eight attempts over about 28 hours).
        "WEBHOOK_RETRY_SCHEDULE",
        "5,300,1800,7200,18000,36000,36000",
        p.schedule,
        "Seconds to wait before each retry, comma-separated; one retry per item.",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_RETRY_JITTER",
        "0.2",
        p.jitter,
        "Each wait is spread at random by up to this fraction either way, so that retries of "
        "many deliveries do not arrive together.",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_CONNECT_TIMEOUT",
        "3.05",
        p.positive_float,
        "Seconds to wait for a connection to an endpoint.",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_READ_TIMEOUT",
        "10",
        p.positive_float,
        "Seconds to wait for an endpoint to answer.",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_PAUSE_AFTER_FAILURES",
        "5",
        p.positive_int,
        "Deliveries in a row that failed after every retry before an endpoint is paused.",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_PAUSE_AFTER_HOURS",
        "24",
        p.positive_float,
        "Hours an endpoint may keep failing without a success before it is paused.",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_SECRET_GRACE_HOURS",
        "24",
        p.positive_float,
        "Hours the previous secret keeps signing beside the new one after a rotation.",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_FULL_MDN",
        "off",
        p.boolean,
        "Send subscribers' full mobile numbers in events instead of masked ones (+1•••••1234).",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_BATCH_SIZE",
        "50",
        p.positive_int,
        "Deliveries one task claims at a time.",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_CONCURRENCY",
        "8",
        p.positive_int,
        "Deliveries one worker sends at once.",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_TASK_SECONDS",
        "5",
        p.positive_float,
        "Seconds one delivery task keeps sending before it hands the worker to other tasks.",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_LEASE_SECONDS",
        "120",
        p.positive_float,
        "How long a worker owns the deliveries it claimed; after that (a worker that died) "
        "another worker sends them (`prefcenter.W501` warns when it is short next to the "
        "timeouts).",
        "webhooks",
    ),
    Setting(
        "WEBHOOK_RETENTION_DAYS",
        "30",
        p.positive_int,
        "Days that events with nothing left to send, and their attempts, are kept.",
        "webhooks",
    ),
]

SETTINGS = PREFERENCES + API + WEBHOOKS
