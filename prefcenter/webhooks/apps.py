from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "prefcenter.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from prefcenter.webhooks import checks, receivers  # noqa: F401 (registers checks)

        receivers.connect()
