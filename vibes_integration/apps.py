from django.apps import AppConfig


class VibesIntegrationConfig(AppConfig):
    name = "vibes_integration"
    verbose_name = "Vibes integration"

    def ready(self) -> None:
        from vibes_integration import checks  # noqa: F401  (registers the system checks)
