"""Settings for benchmark runs: the product's settings plus the ceiling view."""

from prefcenter.settings import *  # noqa: F403
from prefcenter.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "WARNING"},
}
