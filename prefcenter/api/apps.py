from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "prefcenter.api"
    label = "prefcenter_api"
    verbose_name = "API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from prefcenter.api import openapi  # noqa: F401  (registers the OpenAPI extensions)
