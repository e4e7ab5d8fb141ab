"""``/vibes/callbacks/`` and ``/vibes/callbacks/<token>/`` (see ``VIBES_CALLBACK_TOKENS``)."""

from django.urls import path

from vibes_integration.callbacks.views import callback_receive

app_name = "vibes_callbacks"

urlpatterns = [
    path("", callback_receive, name="receive"),
    path("<str:token>/", callback_receive, name="receive_with_token"),
]
