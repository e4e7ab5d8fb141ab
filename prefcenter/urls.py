from django.contrib import admin
from django.urls import include, path

from prefcenter.health import healthz, healthz_workers
from vibes_integration.sync.metrics import metrics

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/workers", healthz_workers, name="healthz_workers"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include("prefcenter.api.urls")),
    path("vibes/callbacks/", include("vibes_integration.callbacks.urls")),
    path("", include("prefcenter.preferences.urls")),
]
