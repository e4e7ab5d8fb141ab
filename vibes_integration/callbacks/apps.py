from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "vibes_integration.callbacks"
    label = "vibes_callbacks"
    verbose_name = "Vibes callbacks"
