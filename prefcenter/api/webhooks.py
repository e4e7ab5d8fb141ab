"""Webhook endpoints through the API: register, change, rotate the secret, pause, resume,
delete, and read what was delivered.

Thin views over ``prefcenter.webhooks.services``, the same functions the admin calls, so
the rules (https only in production, known event types, the rotation's grace period) are
the same whoever registers the endpoint. A secret is answered once, by the create and the
rotate operations, and never by a read.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from prefcenter.api.problems import QueryValidationError, query_values
from prefcenter.api.scopes import Scope
from prefcenter.api.serializers import PageParamsSerializer
from prefcenter.api.views import ApiView, IdCursorPagination, IdempotentPostView
from prefcenter.webhooks import services
from prefcenter.webhooks.choices import AttemptOutcome, DeliveryState, EventType
from prefcenter.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

URL_MAX_LENGTH = WebhookEndpoint._meta.get_field("url").max_length
DESCRIPTION_MAX_LENGTH = WebhookEndpoint._meta.get_field("description").max_length
REASON_MAX_LENGTH = WebhookEndpoint._meta.get_field("paused_reason").max_length
TAGS = ["webhooks"]


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(EventType.choices))
    paused = serializers.BooleanField(source="is_paused")
    previous_secret_signs_until = serializers.DateTimeField(
        source="previous_secret_expires_at",
        allow_null=True,
        help_text="After a rotation, the replaced secret also signs until this time.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "paused",
            "paused_at",
            "paused_reason",
            "consecutive_failures",
            "failing_since",
            "last_success_at",
            "previous_secret_signs_until",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (whsec_…), shown in this answer only: keep it now."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=URL_MAX_LENGTH,
        help_text="Where events are POSTed; https:// only in production.",
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(EventType.choices), min_length=1
    )
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, required=False, default=""
    )


class WebhookEndpointPatchSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=URL_MAX_LENGTH, required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(EventType.choices), min_length=1, required=False
    )
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, required=False
    )


class WebhookPauseSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, allow_blank=True, required=False, default=""
    )


class WebhookAttemptSerializer(serializers.ModelSerializer):
    outcome = serializers.ChoiceField(AttemptOutcome.choices)

    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "made_at",
            "status_code",
            "outcome",
            "error",
            "response_excerpt",
            "duration_ms",
            "next_retry_at",
        ]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    message_id = serializers.CharField(source="message.message_id")
    event_type = serializers.ChoiceField(EventType.choices, source="message.event_type")
    state = serializers.ChoiceField(DeliveryState.choices)
    attempt_log = WebhookAttemptSerializer(many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "message_id",
            "event_type",
            "state",
            "replay",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "finished_at",
            "attempt_log",
        ]
        read_only_fields = fields


class WebhookEndpointPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WebhookEndpointSerializer(many=True)


class WebhookDeliveryPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WebhookDeliverySerializer(many=True)


class NewestFirstPagination(IdCursorPagination):
    ordering = "-id"


def _check_page_params(request: Request) -> None:
    params = PageParamsSerializer(data=query_values(request))
    if not params.is_valid():
        raise QueryValidationError(params.errors)


def _endpoint(pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=pk)


def _location(endpoint: WebhookEndpoint) -> str:
    return reverse("api:webhook-endpoint", kwargs={"pk": endpoint.pk})


class WebhookEndpointListView(IdempotentPostView):
    query_parameters = {"GET": (PageParamsSerializer,)}
    required_scopes = {"GET": Scope.WEBHOOKS, "POST": Scope.WEBHOOKS}

    @extend_schema(
        operation_id="webhook_endpoints_list",
        parameters=[PageParamsSerializer],
        responses=WebhookEndpointPageSerializer,
        tags=TAGS,
        description="The registered endpoints, in id order (secrets are never shown here).",
    )
    def get(self, request: Request) -> Response:
        _check_page_params(request)
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(WebhookEndpoint.objects.all(), request, self)
        return paginator.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        operation_id="webhook_endpoints_create",
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
        tags=TAGS,
        description="Register an endpoint for the event types given. The answer carries the "
        "signing secret, the only time it is shown.",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def create(self, request: Request) -> Response:
        data = WebhookEndpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.endpoint_create(**data.validated_data)
        return _with_secret(created, status_code=status.HTTP_201_CREATED)


def _with_secret(result: services.EndpointWithSecret, *, status_code: int) -> Response:
    body = WebhookEndpointSerializer(result.endpoint).data
    body["secret"] = result.secret
    return Response(body, status=status_code, headers={"Location": _location(result.endpoint)})


class WebhookEndpointDetailView(ApiView):
    required_scopes = {"GET": Scope.WEBHOOKS, "PATCH": Scope.WEBHOOKS, "DELETE": Scope.WEBHOOKS}

    @extend_schema(
        operation_id="webhook_endpoints_read", responses=WebhookEndpointSerializer, tags=TAGS
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(WebhookEndpointSerializer(_endpoint(pk)).data)

    @extend_schema(
        operation_id="webhook_endpoints_update",
        request=WebhookEndpointPatchSerializer,
        responses=WebhookEndpointSerializer,
        tags=TAGS,
        description="Change the fields given. Deliveries already queued keep their endpoint.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        endpoint = _endpoint(pk)
        data = WebhookEndpointPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhook_endpoints_delete",
        responses={204: None},
        tags=TAGS,
        description="Remove the endpoint, its queued deliveries and their log. To stop "
        "sending but keep the log, pause it.",
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.endpoint_delete(endpoint=_endpoint(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointActionView(IdempotentPostView):
    # A POST that acts on one endpoint; subclasses say what ``act`` does. (A comment, not a
    # docstring: the OpenAPI document would show a docstring as each operation's text.)

    required_scopes = {"POST": Scope.WEBHOOKS}

    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk=pk)

    def create(self, request: Request, pk: int) -> Response:
        return self.act(request, _endpoint(pk))

    def act(self, request: Request, endpoint: WebhookEndpoint) -> Response:
        raise NotImplementedError


class WebhookEndpointRotateSecretView(WebhookEndpointActionView):
    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        request=None,
        responses={200: WebhookEndpointWithSecretSerializer},
        tags=TAGS,
        description="A new secret signs from now on, shown in this answer only; the replaced "
        "one keeps signing beside it until previous_secret_signs_until.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk=pk)

    def act(self, request: Request, endpoint: WebhookEndpoint) -> Response:
        rotated = services.endpoint_rotate_secret(endpoint=endpoint)
        return _with_secret(rotated, status_code=status.HTTP_200_OK)


class WebhookEndpointPauseView(WebhookEndpointActionView):
    @extend_schema(
        operation_id="webhook_endpoints_pause",
        request=WebhookPauseSerializer,
        responses=WebhookEndpointSerializer,
        tags=TAGS,
        description="Hold deliveries (they wait, none is lost). Pausing a paused endpoint "
        "changes nothing.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk=pk)

    def act(self, request: Request, endpoint: WebhookEndpoint) -> Response:
        data = WebhookPauseSerializer(data=request.data if request.data is not None else {})
        data.is_valid(raise_exception=True)
        services.endpoint_pause(endpoint=endpoint, reason=data.validated_data["reason"])
        return Response(WebhookEndpointSerializer(endpoint).data)


class WebhookEndpointResumeView(WebhookEndpointActionView):
    @extend_schema(
        operation_id="webhook_endpoints_resume",
        request=None,
        responses=WebhookEndpointSerializer,
        tags=TAGS,
        description="Send again: the failure count starts afresh and every held delivery is "
        "due now.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk=pk)

    def act(self, request: Request, endpoint: WebhookEndpoint) -> Response:
        services.endpoint_resume(endpoint=endpoint)
        return Response(WebhookEndpointSerializer(endpoint).data)


class WebhookDeliveryListView(ApiView):
    query_parameters = {"GET": (PageParamsSerializer,)}
    required_scopes = {"GET": Scope.WEBHOOKS}

    @extend_schema(
        operation_id="webhook_endpoints_deliveries",
        parameters=[PageParamsSerializer],
        responses=WebhookDeliveryPageSerializer,
        tags=TAGS,
        description="The events sent or waiting for this endpoint, newest first, each with "
        "every attempt made.",
    )
    def get(self, request: Request, pk: int) -> Response:
        _check_page_params(request)
        endpoint = _endpoint(pk)
        deliveries = (
            WebhookDelivery.objects.filter(endpoint=endpoint)
            .select_related("message")
            .prefetch_related(
                Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
            )
        )
        paginator = NewestFirstPagination()
        page = paginator.paginate_queryset(deliveries, request, self)
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


# ``/api/v1/webhook-endpoints/`` (included by ``prefcenter.api.urls``).
urlpatterns = [
    path("", WebhookEndpointListView.as_view(), name="webhook-endpoints"),
    path("<int:pk>/", WebhookEndpointDetailView.as_view(), name="webhook-endpoint"),
    path(
        "<int:pk>/rotate-secret/",
        WebhookEndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path("<int:pk>/pause/", WebhookEndpointPauseView.as_view(), name="webhook-endpoint-pause"),
    path("<int:pk>/resume/", WebhookEndpointResumeView.as_view(), name="webhook-endpoint-resume"),
    path(
        "<int:pk>/deliveries/",
        WebhookDeliveryListView.as_view(),
        name="webhook-endpoint-deliveries",
    ),
]
