from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "vibes_integration.sync"
    label = "vibes_sync"
    verbose_name = "Vibes sync"
