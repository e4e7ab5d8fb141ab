from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "prefcenter.access"
    label = "access"
    verbose_name = _("Data access")
    default_auto_field = "django.db.models.BigAutoField"
