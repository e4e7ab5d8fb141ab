from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallbacksConfig(AppConfig):
    name = "vibes_integration.callbacks"
    label = "vibes_callbacks"
    verbose_name = _("Vibes callbacks")

    def ready(self) -> None:
        # Connect the receivers: the one that notes the CRM's own changes to persons, and
        # the one that enqueues a failed event's retry.
        from vibes_integration.callbacks import tasks, watermarks  # noqa: F401
