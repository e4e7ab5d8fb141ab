from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "vibes_integration.sync"
    label = "vibes_sync"
    verbose_name = _("Vibes sync")

    def ready(self) -> None:
        from vibes_integration.sync import checks, receivers  # noqa: F401 (registers checks)

        receivers.connect()
