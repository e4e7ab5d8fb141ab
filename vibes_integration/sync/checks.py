"""System checks for the outbound sync's settings (ids ``vibes_sync.E0xx`` / ``W0xx``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from vibes_integration.sync import conf


@register()
def check_sync_settings(app_configs=None, **kwargs):
    messages = []
    for name, spec in conf.SETTINGS.items():
        try:
            conf.sync_setting(name)
        except ImproperlyConfigured as exc:
            messages.append(Error(str(exc), hint=spec.help, id="vibes_sync.E001"))
    if messages:
        return messages
    lease = conf.sync_setting("VIBES_SYNC_LEASE_SECONDS")
    read_timeout = float(getattr(settings, "VIBES_READ_TIMEOUT", 10.0) or 10.0)
    if lease < 4 * read_timeout:
        messages.append(
            Warning(
                f"VIBES_SYNC_LEASE_SECONDS={lease:g} is short next to VIBES_READ_TIMEOUT="
                f"{read_timeout:g}: a slow batch could be taken over and sent twice.",
                hint="Keep the lease at least four times the read timeout.",
                id="vibes_sync.W001",
            )
        )
    if conf.sync_setting("VIBES_SYNC_RATE_LIMITER") == "cache":
        backend = settings.CACHES.get("default", {}).get("BACKEND", "")
        from vibes_integration.sync.ratelimit import SHARED_CACHE_BACKENDS

        if backend not in SHARED_CACHE_BACKENDS:
            messages.append(
                Error(
                    "VIBES_SYNC_RATE_LIMITER=cache needs a cache that every worker shares; "
                    f"the default cache is {backend}.",
                    hint="Set CACHE_URL=redis://... or VIBES_SYNC_RATE_LIMITER=database.",
                    id="vibes_sync.E002",
                )
            )
    return messages
