"""Erasure requests (scope ``privacy``): create one for a person, and read its status.

Creating is idempotent twice over: an ``Idempotency-Key`` replays the first answer, and a
second request for a person already erased answers the existing request (200) rather than
a new one (201). The answer carries only ids, times and the state: the person has no
personal data left by then. Access requests belong with the access export.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from crm.choices import Source
from crm.models import ErasureRequest, Person
from crm.services.erasure import erasure_request
from prefcenter.api.scopes import Scope
from prefcenter.api.views import ApiView, IdempotentPostView


class ErasureCreateSerializer(serializers.Serializer):
    person_id = serializers.IntegerField(min_value=1)


class ErasureRequestSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()

    class Meta:
        model = ErasureRequest
        fields = [
            "id",
            "person_id",
            "source",
            "state",
            "received_at",
            "deadline_at",
            "crm_finished_at",
            "vibes_finished_at",
        ]
        read_only_fields = fields

    def get_state(self, obj: ErasureRequest) -> str:
        if obj.is_done:
            return "done"
        return "waiting_for_vibes" if obj.crm_finished_at else "received"


class ErasureRequestCreateView(IdempotentPostView):
    required_scopes = {"POST": Scope.PRIVACY}

    @extend_schema(
        operation_id="erasure_requests_create",
        request=ErasureCreateSerializer,
        responses={201: ErasureRequestSerializer, 200: ErasureRequestSerializer},
        tags=["privacy"],
        description="Erase the person's personal data in the CRM now and in Vibes through "
        "the outbox. 201 with a new request, 200 when the person was already erased.",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def create(self, request: Request) -> Response:
        data = ErasureCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = get_object_or_404(Person, pk=data.validated_data["person_id"])
        existed = ErasureRequest.objects.filter(person=person).exists()
        erasure = erasure_request(
            person=person, source=Source.API, requested_by=f"api:{self.client.pk}"
        )
        return Response(
            ErasureRequestSerializer(erasure).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
            headers={"Location": reverse("api:erasure-request", kwargs={"pk": erasure.pk})},
        )


class ErasureRequestDetailView(ApiView):
    required_scopes = {"GET": Scope.PRIVACY}

    @extend_schema(
        operation_id="erasure_requests_read",
        responses=ErasureRequestSerializer,
        tags=["privacy"],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ErasureRequestSerializer(get_object_or_404(ErasureRequest, pk=pk)).data)


urlpatterns: list[URLPattern] = [
    path("erasure-requests/", ErasureRequestCreateView.as_view(), name="erasure-requests"),
    path(
        "erasure-requests/<int:pk>/",
        ErasureRequestDetailView.as_view(),
        name="erasure-request",
    ),
]
