"""``/vibes/callbacks/`` and ``/vibes/callbacks/<token>/`` (see ``VIBES_CALLBACK_TOKENS``).

``drf/`` and ``drf/<token>/`` serve the same endpoint as a REST framework view, kept so
that ``make bench`` can measure both (docs/callbacks.md); Vibes is told to call the plain
one. A path token is never ``drf``: a token that short draws warning prefcenter.W302.
"""

from django.urls import path

from vibes_integration.callbacks.drf_views import callback_receive_drf
from vibes_integration.callbacks.views import callback_receive

app_name = "vibes_callbacks"

urlpatterns = [
    path("drf/", callback_receive_drf, name="receive_drf"),
    path("drf/<str:token>/", callback_receive_drf, name="receive_drf_with_token"),
    path("", callback_receive, name="receive"),
    path("<str:token>/", callback_receive, name="receive_with_token"),
]
