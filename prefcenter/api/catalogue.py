"""The lists and custom fields a client needs to know to fill in a person or an opt-in."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from crm.models import CustomField
from crm.selectors import all_subscription_lists
from prefcenter.api.scopes import Scope
from prefcenter.api.serializers import CustomFieldSerializer, SubscriptionListSerializer
from prefcenter.api.views import ApiView


class SubscriptionListListView(ApiView):
    required_scopes = {"GET": Scope.PERSONS_READ}

    @extend_schema(
        operation_id="lists_list",
        responses=SubscriptionListSerializer(many=True),
        tags=["catalogue"],
    )
    def get(self, request: Request) -> Response:
        return Response(SubscriptionListSerializer(all_subscription_lists(), many=True).data)


class CustomFieldListView(ApiView):
    required_scopes = {"GET": Scope.PERSONS_READ}

    @extend_schema(
        operation_id="custom_fields_list",
        responses=CustomFieldSerializer(many=True),
        tags=["catalogue"],
    )
    def get(self, request: Request) -> Response:
        fields = CustomField.objects.order_by("order", "key")
        return Response(CustomFieldSerializer(fields, many=True).data)
