"""System checks of the outbound sync's settings (ids ``prefcenter.E4xx`` / ``W4xx``; see
``prefcenter.checks``). A value that cannot be read at all is ``prefcenter.E100``."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from prefcenter.conf import setting
from vibes_integration.sync.ratelimit import SHARED_CACHE_BACKENDS


@register()
def check_sync_settings(app_configs=None, **kwargs):
    try:
        lease = setting("VIBES_SYNC_LEASE_SECONDS")
        read_timeout = setting("VIBES_READ_TIMEOUT")
        limiter = setting("VIBES_SYNC_RATE_LIMITER")
    except ImproperlyConfigured:
        return []  # prefcenter.E100 names it
    messages = []
    if lease < 4 * read_timeout:
        messages.append(
            Warning(
                f"VIBES_SYNC_LEASE_SECONDS={lease:g} is short next to VIBES_READ_TIMEOUT="
                f"{read_timeout:g}: a slow batch could be taken over and sent twice.",
                hint="Keep the lease at least four times the read timeout.",
                id="prefcenter.W401",
            )
        )
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if limiter == "cache" and backend not in SHARED_CACHE_BACKENDS:
        messages.append(
            Error(
                "VIBES_SYNC_RATE_LIMITER=cache needs a cache that every worker shares; "
                f"the default cache is {backend}.",
                hint="Set CACHE_URL=redis://... or VIBES_SYNC_RATE_LIMITER=database.",
                id="prefcenter.E401",
            )
        )
    return messages
