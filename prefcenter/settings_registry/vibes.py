"""The Vibes settings: the API client, the callback endpoint and the outbound sync."""

from __future__ import annotations

from prefcenter.settings_registry import parsers as p
from prefcenter.settings_registry.entry import Setting

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
_VIBES_CALLBACK_ADDRESSES = ",".join(VIBES_US_CALLBACK_ADDRESSES + VIBES_EU_CALLBACK_ADDRESSES)

CLIENT = [
    Setting(
        "VIBES_API_URL",
        "http://127.0.0.1:8001",
        p.text,
        "`https://public-api.vibescm.com` (US) or `https://public-api.eu.vibes.com` (EU).",
        "vibes",
        shown_default="`http://127.0.0.1:8001` (the local sandbox)",
    ),
    Setting("VIBES_COMPANY_KEY", "demo", p.required_text, "Vibes company key.", "vibes"),
    Setting("VIBES_USERNAME", "demo", p.required_text, "Vibes API user.", "vibes"),
    Setting("VIBES_PASSWORD", "demo-password", p.required_text, "Vibes API password.", "vibes"),
    Setting(
        "VIBES_RATE_LIMIT",
        "100",
        p.positive_int,
        "Calls per second per company, across all workers (the client and the sync).",
        "vibes",
    ),
    Setting(
        "VIBES_CONNECT_TIMEOUT",
        "3.05",
        p.positive_float,
        "Seconds to wait for a connection to Vibes.",
        "vibes",
    ),
    Setting(
        "VIBES_READ_TIMEOUT",
        "10",
        p.positive_float,
        "Seconds to wait for Vibes to answer.",
        "vibes",
    ),
]

CALLBACKS = [
    Setting(
        "VIBES_CALLBACK_USERNAME",
        "",
        p.text,
        "HTTP Basic user Vibes must send to the callback endpoint (`vibes_callbacks register` "
        "puts it in the registered URL as `https://user:password@host/...`).",
        "callbacks",
    ),
    Setting(
        "VIBES_CALLBACK_PASSWORD",
        "",
        p.text,
        "HTTP Basic password for `VIBES_CALLBACK_USERNAME`.",
        "callbacks",
    ),
    Setting(
        "VIBES_CALLBACK_CREDENTIALS",
        "",
        p.credential_pairs,
        "More accepted `user:password` pairs, comma-separated, so that a new pair can be "
        "added before the old one is removed.",
        "callbacks",
    ),
    Setting(
        "VIBES_CALLBACK_TOKENS",
        "",
        p.text_list,
        "Comma-separated secret path tokens; the endpoint is then `/vibes/callbacks/<token>/` "
        "and the bare path answers 403 (a token path when no token is configured answers 404).",
        "callbacks",
    ),
    Setting(
        "VIBES_CALLBACK_ALLOWED_IPS",
        lambda read: _VIBES_CALLBACK_ADDRESSES if read("DJANGO_ENV") == "production" else "*",
        p.text_list,
        "Addresses or networks (`10.0.0.0/8`) allowed to call the callback endpoint; `*` "
        "allows all. An entry that cannot be read allows nobody.",
        "callbacks",
        shown_default="Vibes' published US and EU addresses in production, `*` in development",
    ),
    Setting(
        "VIBES_TRUSTED_PROXIES",
        "",
        p.text_list,
        "Addresses or networks of your load balancers; only when the connecting peer is one "
        "of them is `X-Forwarded-For` read (from the right, skipping trusted hops), so that a "
        "client cannot spoof its address.",
        "callbacks",
    ),
    Setting(
        "VIBES_CALLBACK_BASE_URL",
        lambda read: f"{str(read('SITE_URL')).rstrip('/')}/vibes/callbacks/",
        p.text,
        "Public URL of the callback endpoint to register with Vibes; include the token path "
        "when you use tokens.",
        "callbacks",
        shown_default="`SITE_URL` + `/vibes/callbacks/`",
    ),
    Setting(
        "VIBES_CALLBACK_MAX_BODY_BYTES",
        "262144",
        p.positive_int,
        "A callback body larger than this many bytes is stored truncated to it, marked, "
        "answered 200 and settled `invalid` for staff to see.",
        "callbacks",
        shown_default="`262144` (256 KiB)",
    ),
]

SYNC = [
    Setting(
        "VIBES_SYNC_RATE_HEADROOM",
        "0.97",
        p.fraction,
        "Share of `VIBES_RATE_LIMIT` the sync paces itself to, so that network jitter never "
        "pushes a second over Vibes' limit.",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_RATE_LIMITER",
        "auto",
        p.one_of("auto", "database", "cache"),
        "Where workers share the rate limit: `database`, `cache` (a shared cache such as "
        "Redis) or `auto` (the cache when `CACHE_URL` points at Redis or Memcached, else the "
        "database).",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_PERSON_FIELDS",
        '{"first_name": "first_name", "last_name": "last_name", "email": "email"}',
        p.field_map,
        "Which Person attributes are sent to which Vibes custom field (JSON).",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_BATCH_SIZE",
        "100",
        p.positive_int,
        "Operations one sync task claims and sends at a time.",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_CONCURRENCY",
        # Calls in flight = rate x time per call: 16 keep one worker at 100 calls/s while a
        # call (with the thread's wake-up on a busy host) takes up to 160 ms.
        "16",
        p.positive_int,
        "Calls to Vibes one worker keeps in flight at once (rate x seconds per call: at "
        "100/s, 16 cover calls of up to 160 ms).",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_TASK_SECONDS",
        "5",
        p.positive_float,
        "Seconds one sync task keeps sending before it hands the worker to other tasks.",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_MAX_ATTEMPTS",
        "10",
        p.positive_int,
        "Attempts before an operation that keeps failing is marked failed.",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_BACKOFF_BASE",
        "2",
        p.positive_float,
        "Seconds before the first retry; doubled for each further one.",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_BACKOFF_MAX",
        "300",
        p.positive_float,
        "Longest wait between two attempts, in seconds.",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_LEASE_SECONDS",
        "120",
        p.positive_float,
        "How long a worker owns the operations it claimed; after that (a worker that died) "
        "the sweep gives them to another worker. Keep it at least four times `VIBES_READ_TIMEOUT` "
        "(`prefcenter.W401`).",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_SWEEP_INTERVAL",
        "30",
        p.positive_float,
        "Seconds between two sweeps of `vibes_sync --loop`.",
        "sync",
    ),
    Setting(
        "VIBES_SYNC_RETENTION_DAYS",
        "30",
        p.positive_int,
        "Days that finished operations and the call log are kept.",
        "sync",
    ),
]

SETTINGS = CLIENT + CALLBACKS + SYNC
