"""System checks of the Vibes client's and the callback endpoint's settings (ids
``prefcenter.E2xx``/``W2xx`` and ``prefcenter.E3xx``/``W3xx``; see ``prefcenter.checks``).

A value that cannot be read at all is ``prefcenter.E100``; these checks look at values that
can be read but are wrong together or unsafe, and skip while E100 reports a value.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from prefcenter.conf import setting
from vibes_integration.callbacks.authentication import parse_networks
from vibes_integration.conf import callback_credentials

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@register()
def check_vibes_api(app_configs=None, **kwargs):
    try:
        url, rate = setting("VIBES_API_URL"), setting("VIBES_RATE_LIMIT")
    except ImproperlyConfigured:
        return []  # prefcenter.E100 names it
    messages = []
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        messages.append(
            Error(
                f"VIBES_API_URL={url!r} is not an http(s) URL.",
                hint="Use https://public-api.vibescm.com (US), https://public-api.eu.vibes.com "
                "(EU) or http://127.0.0.1:8001 (the local sandbox).",
                id="prefcenter.E201",
            )
        )
    elif settings.PRODUCTION and parts.hostname in _LOCAL_HOSTS:
        messages.append(
            Warning(
                "VIBES_API_URL points at this machine (the local sandbox) in production.",
                hint="Set VIBES_API_URL to Vibes' US or EU host.",
                id="prefcenter.W201",
            )
        )
    if rate > 100:
        messages.append(
            Warning(
                f"VIBES_RATE_LIMIT={rate} is above Vibes' published 100 calls per second.",
                hint="Vibes answers 429 past its limit.",
                id="prefcenter.W202",
            )
        )
    return messages


@register()
def check_callback_protection(app_configs=None, **kwargs):
    try:
        credentials = callback_credentials()
        tokens = setting("VIBES_CALLBACK_TOKENS")
        allowed = setting("VIBES_CALLBACK_ALLOWED_IPS")
        proxies = setting("VIBES_TRUSTED_PROXIES")
    except ImproperlyConfigured:
        return []  # prefcenter.E100 names it
    messages = []
    if not credentials and not tokens and "*" in allowed:
        messages.append(
            Warning(
                "The Vibes callback endpoint is open: no credentials, no path token and no "
                "address allowlist.",
                hint="Set VIBES_CALLBACK_USERNAME/VIBES_CALLBACK_PASSWORD or "
                "VIBES_CALLBACK_TOKENS, and leave VIBES_CALLBACK_ALLOWED_IPS at its default.",
                id="prefcenter.W301",
            )
        )
    for name, entries in (
        ("VIBES_CALLBACK_ALLOWED_IPS", allowed),
        ("VIBES_TRUSTED_PROXIES", proxies),
    ):
        _, invalid = parse_networks(entries)
        if invalid:
            messages.append(
                Error(
                    f"{name} has entries that are not addresses or networks: {', '.join(invalid)}.",
                    hint="Use addresses (35.155.139.143) or networks (10.0.0.0/8), "
                    "comma-separated; they are ignored until fixed.",
                    id="prefcenter.E301",
                )
            )
    if not allowed:
        messages.append(
            Error(
                "VIBES_CALLBACK_ALLOWED_IPS is empty: every callback would be refused, and "
                "Vibes drops a refused event for good.",
                hint="Leave it unset for Vibes' published addresses, or use * to allow all.",
                id="prefcenter.E302",
            )
        )
    short = [token for token in tokens if len(str(token)) < 16]
    if short:
        messages.append(
            Warning(
                f"{len(short)} VIBES_CALLBACK_TOKENS value(s) are shorter than 16 characters "
                "and could be guessed.",
                hint='Use e.g. python -c "import secrets; print(secrets.token_urlsafe(24))".',
                id="prefcenter.W302",
            )
        )
    return messages
