"""``/api/v1/`` and the API's own documentation pages (``/api/schema/``, ``/api/docs/``,
``/api/redoc/``)."""

from django.urls import include, path, re_path

from prefcenter.api import (
    access,
    catalogue,
    consent,
    links,
    number_changes,
    persons,
    privacy,
    problems,
    subscriptions,
    webhooks,
)
from prefcenter.api.schema_views import RedocView, SchemaView, SwaggerView

app_name = "api"

v1 = [
    path("persons/", persons.PersonListView.as_view(), name="persons"),
    path("persons/<int:pk>/", persons.PersonDetailView.as_view(), name="person"),
    path(
        "persons/external/<str:external_person_id>/",
        persons.PersonByExternalIdView.as_view(),
        name="person-by-external-id",
    ),
    path(
        "persons/<int:pk>/opt-in-requests/",
        subscriptions.OptInRequestCreateView.as_view(),
        name="person-opt-in-requests",
    ),
    path(
        "persons/<int:pk>/subscriptions/<str:list_id>/leave/",
        subscriptions.SubscriptionLeaveView.as_view(),
        name="person-subscription-leave",
    ),
    path(
        "persons/<int:pk>/number-changes/",
        number_changes.NumberChangeCreateView.as_view(),
        name="person-number-changes",
    ),
    path(
        "persons/<int:pk>/number/remove/",
        number_changes.NumberRemoveView.as_view(),
        name="person-number-remove",
    ),
    path(
        "persons/<int:pk>/preference-link/",
        links.PreferenceLinkView.as_view(),
        name="person-preference-link",
    ),
    path(
        "persons/<int:pk>/consent-evidence/",
        access.ConsentEvidenceView.as_view(),
        name="person-consent-evidence",
    ),
    path(
        "opt-in-requests/<int:pk>/",
        subscriptions.OptInRequestDetailView.as_view(),
        name="opt-in-request",
    ),
    path("consent-events/", consent.ConsentEventListView.as_view(), name="consent-events"),
    path(
        "consent-events/export.ndjson",
        consent.ConsentExportView.as_view(),
        name="consent-events-export-ndjson",
    ),
    path(
        "consent-events/export.csv",
        consent.ConsentCsvExportView.as_view(),
        name="consent-events-export-csv",
    ),
    path("lists/", catalogue.SubscriptionListListView.as_view(), name="lists"),
    path("custom-fields/", catalogue.CustomFieldListView.as_view(), name="custom-fields"),
    path("privacy/access-requests/", include(access.urlpatterns)),
    path("privacy/", include(privacy.urlpatterns)),
    path("webhook-endpoints/", include(webhooks.urlpatterns)),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="swagger-ui"),
    path("redoc/", RedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^.*$", problems.not_found),
]
