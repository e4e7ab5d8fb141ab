from django.apps import AppConfig


class PrefcenterConfig(AppConfig):
    name = "prefcenter"
    verbose_name = "Preference center"

    def ready(self) -> None:
        from prefcenter import checks  # noqa: F401  (registers the system checks)
        from prefcenter.preferences import checks as preference_checks  # noqa: F401
