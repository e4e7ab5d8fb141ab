"""System checks of the settings, and of the project-wide ones in particular.

Every check of prefcenter's settings has an id in one scheme, ``prefcenter.E<nnn>`` for an
error and ``prefcenter.W<nnn>`` for a warning, numbered by the part that owns the setting:

- ``0xx`` the project (this module), ``100`` a declared setting whose value cannot be read
  (this module, generated from ``prefcenter.settings_registry``);
- ``2xx`` the Vibes client and ``3xx`` the callback endpoint (``vibes_integration/checks.py``);
- ``4xx`` the sync (``vibes_integration/sync/checks.py``), ``5xx`` the webhooks
  (``prefcenter/webhooks/checks.py``), ``6xx`` the preference center
  (``prefcenter/preferences/checks.py``), ``7xx`` erasure (``crm/erasure_checks.py``).
"""

from django.conf import settings
from django.core.checks import Error, Warning, register

from prefcenter import conf


@register()
def check_setting_values(app_configs=None, **kwargs):
    """Every declared setting whose value cannot be parsed, with what to write instead."""
    return [
        Error(
            message, hint="See the configuration tables (README.md, docs/).", id="prefcenter.E100"
        )
        for message in conf.problems().values()
    ]


# Not tagged "database": it reads settings only, and Django skips database-tagged checks
# unless --database is given, which would hide this warning from `check --deploy`.
@register(deploy=True)
def check_database(app_configs=None, **kwargs):
    messages = []
    engine = settings.DATABASES["default"]["ENGINE"]
    if settings.PRODUCTION and engine.endswith("sqlite3"):
        messages.append(
            Warning(
                "Production is running on SQLite.",
                hint="Set DATABASE_URL=postgres://user:password@host:5432/name; SQLite serves "
                "one writer at a time and cannot be shared by several machines.",
                id="prefcenter.W001",
            )
        )
    return messages


@register(deploy=True)
def check_email(app_configs=None, **kwargs):
    if settings.PRODUCTION and settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        return [
            Warning(
                "Preference-center link emails are printed to the console, not sent.",
                hint="Set EMAIL_URL=smtp://user:password@host:587.",
                id="prefcenter.W002",
            )
        ]
    return []


@register()
def check_site_url(app_configs=None, **kwargs):
    if not settings.SITE_URL.startswith(("http://", "https://")):
        return [
            Error(
                f"SITE_URL={settings.SITE_URL!r} is not an http(s) URL.",
                hint="Set SITE_URL=https://preferences.example.com.",
                id="prefcenter.E001",
            )
        ]
    if settings.PRODUCTION and not settings.SITE_URL.startswith("https://"):
        return [
            Warning(
                "SITE_URL is not https: links sent to subscribers carry a secret token.",
                hint="Serve the site over TLS and set SITE_URL=https://...",
                id="prefcenter.W003",
            )
        ]
    return []
