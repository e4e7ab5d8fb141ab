"""System checks of the webhooks' settings (ids ``prefcenter.E5xx`` / ``W5xx``; see
``prefcenter.checks``). A value that cannot be read at all is ``prefcenter.E100``."""

from __future__ import annotations

from django.core.checks import Warning, register
from django.core.exceptions import ImproperlyConfigured

from prefcenter.conf import setting


@register()
def check_webhook_settings(app_configs=None, **kwargs):
    try:
        lease = setting("WEBHOOK_LEASE_SECONDS")
        call = setting("WEBHOOK_CONNECT_TIMEOUT") + setting("WEBHOOK_READ_TIMEOUT")
    except ImproperlyConfigured:
        return []  # prefcenter.E100 names it
    if lease < 2 * call:
        return [
            Warning(
                f"WEBHOOK_LEASE_SECONDS={lease:g} is short next to the call timeouts "
                f"({call:g} s): a slow endpoint's delivery could be taken over and sent twice.",
                hint="Keep the lease at least twice the connect and read timeouts together.",
                id="prefcenter.W501",
            )
        ]
    return []
