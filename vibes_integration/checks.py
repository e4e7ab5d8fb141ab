"""System checks for the Vibes settings (ids ``vibes.E0xx`` / ``vibes.W0xx``)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register

from vibes_integration.conf import DEFAULTS, get_setting

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@register()
def check_vibes_api(app_configs=None, **kwargs):
    messages = []
    url = getattr(settings, "VIBES_API_URL", DEFAULTS["VIBES_API_URL"])
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        messages.append(
            Error(
                f"VIBES_API_URL={url!r} is not an http(s) URL.",
                hint="Use https://public-api.vibescm.com (US), https://public-api.eu.vibes.com "
                "(EU) or http://127.0.0.1:8001 (the local sandbox).",
                id="vibes.E001",
            )
        )
    elif settings.PRODUCTION and parts.hostname in _LOCAL_HOSTS:
        messages.append(
            Warning(
                "VIBES_API_URL points at this machine (the local sandbox) in production.",
                hint="Set VIBES_API_URL to Vibes' US or EU host.",
                id="vibes.W001",
            )
        )
    for name in ("VIBES_COMPANY_KEY", "VIBES_USERNAME", "VIBES_PASSWORD"):
        if not getattr(settings, name, None):
            messages.append(
                Error(
                    f"{name} is empty.",
                    hint=f"Set the environment variable {name}.",
                    id="vibes.E002",
                )
            )
    rate = getattr(settings, "VIBES_RATE_LIMIT", DEFAULTS["VIBES_RATE_LIMIT"])
    if not isinstance(rate, int) or rate <= 0:
        messages.append(
            Error(
                f"VIBES_RATE_LIMIT={rate!r} must be a whole number above zero.",
                hint="Vibes allows 100 calls per second per company.",
                id="vibes.E003",
            )
        )
    elif rate > 100:
        messages.append(
            Warning(
                f"VIBES_RATE_LIMIT={rate} is above Vibes' published 100 calls per second.",
                hint="Vibes answers 429 past its limit.",
                id="vibes.W002",
            )
        )
    return messages


@register()
def check_callback_protection(app_configs=None, **kwargs):
    from vibes_integration.callbacks.authentication import parse_networks

    messages = []
    credentials = get_setting("VIBES_CALLBACK_CREDENTIALS")
    tokens = get_setting("VIBES_CALLBACK_TOKENS")
    allowed = get_setting("VIBES_CALLBACK_ALLOWED_IPS")
    if not credentials and not tokens and "*" in allowed:
        messages.append(
            Warning(
                "The Vibes callback endpoint is open: no credentials, no path token and no "
                "address allowlist.",
                hint="Set VIBES_CALLBACK_USERNAME/VIBES_CALLBACK_PASSWORD or "
                "VIBES_CALLBACK_TOKENS, and leave VIBES_CALLBACK_ALLOWED_IPS at its default.",
                id="vibes.W010",
            )
        )
    for name in ("VIBES_CALLBACK_ALLOWED_IPS", "VIBES_TRUSTED_PROXIES"):
        _, invalid = parse_networks(get_setting(name))
        if invalid:
            messages.append(
                Error(
                    f"{name} has entries that are not addresses or networks: {', '.join(invalid)}.",
                    hint="Use addresses (35.155.139.143) or networks (10.0.0.0/8), "
                    "comma-separated; they are ignored until fixed.",
                    id="vibes.E011",
                )
            )
    if not allowed:
        messages.append(
            Error(
                "VIBES_CALLBACK_ALLOWED_IPS is empty: every callback would be refused, and "
                "Vibes drops a refused event for good.",
                hint="Leave it unset for Vibes' published addresses, or use * to allow all.",
                id="vibes.E012",
            )
        )
    short = [token for token in tokens if len(str(token)) < 16]
    if short:
        messages.append(
            Warning(
                f"{len(short)} VIBES_CALLBACK_TOKENS value(s) are shorter than 16 characters "
                "and could be guessed.",
                hint='Use e.g. python -c "import secrets; print(secrets.token_urlsafe(24))".',
                id="vibes.W011",
            )
        )
    return messages
