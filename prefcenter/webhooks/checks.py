"""System checks for the webhooks' settings (ids ``webhooks.E0xx`` / ``W0xx``)."""

from __future__ import annotations

from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from prefcenter.webhooks import conf


@register()
def check_webhook_settings(app_configs=None, **kwargs):
    messages = []
    for name, spec in conf.SETTINGS.items():
        try:
            conf.webhook_setting(name)
        except ImproperlyConfigured as exc:
            messages.append(Error(str(exc), hint=spec.help, id="webhooks.E001"))
    if messages:
        return messages
    lease = conf.webhook_setting("WEBHOOK_LEASE_SECONDS")
    call = conf.webhook_setting("WEBHOOK_CONNECT_TIMEOUT") + conf.webhook_setting(
        "WEBHOOK_READ_TIMEOUT"
    )
    if lease < 2 * call:
        messages.append(
            Warning(
                f"WEBHOOK_LEASE_SECONDS={lease:g} is short next to the call timeouts "
                f"({call:g} s): a slow endpoint's delivery could be taken over and sent twice.",
                hint="Keep the lease at least twice the connect and read timeouts together.",
                id="webhooks.W001",
            )
        )
    return messages
