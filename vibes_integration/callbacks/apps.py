from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallbacksConfig(AppConfig):
    name = "vibes_integration.callbacks"
    label = "vibes_callbacks"
    verbose_name = _("Vibes callbacks")

    def ready(self) -> None:
        # Connects the receiver that notes the CRM's own changes to persons.
        from vibes_integration.callbacks import watermarks  # noqa: F401
