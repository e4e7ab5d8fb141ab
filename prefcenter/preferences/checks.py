"""System checks for the preference center's settings (ids ``prefcenter.E1xx`` / ``W1xx``)."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from prefcenter.preferences import conf


@register()
def check_preference_settings(app_configs=None, **kwargs):
    return [
        Error(problem, hint="See docs/preferences.md, Configuration.", id="prefcenter.E101")
        for problem in conf.validate_all()
    ]


@register(deploy=True)
def check_rate_limit_cache(app_configs=None, **kwargs):
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.PRODUCTION and backend.endswith("LocMemCache"):
        return [
            Warning(
                "Link-request limits are counted in local memory, separately by each process.",
                hint="Set CACHE_URL=redis://host:6379/0 so that every web process shares "
                "one count.",
                id="prefcenter.W101",
            )
        ]
    return []
