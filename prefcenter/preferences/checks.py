"""System checks of the preference center's settings (ids ``prefcenter.E6xx`` / ``W6xx``;
see ``prefcenter.checks``). A value that cannot be read at all is ``prefcenter.E100``."""

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def check_rate_limit_cache(app_configs=None, **kwargs):
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.PRODUCTION and backend.endswith("LocMemCache"):
        return [
            Warning(
                "Link-request limits are counted in local memory, separately by each process.",
                hint="Set CACHE_URL=redis://host:6379/0 so that every web process shares "
                "one count.",
                id="prefcenter.W601",
            )
        ]
    return []
