"""Access requests (scope ``privacy``) and consent evidence (scope ``consent:read``).

``POST /api/v1/privacy/access-requests/`` records that a person's data was asked for;
the export is produced when it is downloaded (``.../{id}/download/``, streamed), and the
request is completed when a download has gone through to its end.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from crm.models import Person, SubscriptionList
from prefcenter.access.evidence import consent_evidence, evidence_as_dict
from prefcenter.access.models import AccessRequest, AccessRequestChannel
from prefcenter.access.responses import export_response
from prefcenter.access.services import access_request_receive
from prefcenter.api.problems import QueryValidationError
from prefcenter.api.scopes import Scope
from prefcenter.api.views import ApiView, IdempotentPostView


class AccessRequestCreateSerializer(serializers.Serializer):
    person = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    external_person_id = serializers.CharField(required=False, max_length=128)

    def validate(self, attrs):
        if ("person" in attrs) == ("external_person_id" in attrs):
            raise serializers.ValidationError(
                "Name the person by exactly one of person (the CRM's id) or external_person_id."
            )
        return attrs


class AccessRequestSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    person = serializers.IntegerField(source="person_id")
    status = serializers.CharField(
        help_text="ready (the export can be downloaded) or completed (it has been, in full)."
    )
    channel = serializers.CharField()
    received_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    downloads = serializers.IntegerField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, obj: AccessRequest) -> str:
        return reverse("api:access-request-download", args=[obj.public_id])


def _represent(access_request: AccessRequest, code: int = status.HTTP_200_OK) -> Response:
    return Response(AccessRequestSerializer(access_request).data, status=code)


class AccessRequestCreateView(IdempotentPostView):
    required_scopes = {"POST": Scope.PRIVACY}

    @extend_schema(
        operation_id="access_requests_create",
        request=AccessRequestCreateSerializer,
        responses={201: AccessRequestSerializer},
        tags=["privacy"],
        description="Record a data subject's request to see their data (GDPR art. 15). The "
        "export is ready at once at download_url; the request is completed when it has "
        "been downloaded in full.",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def create(self, request: Request) -> Response:
        data = AccessRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "person" in values:
            person = get_object_or_404(Person, pk=values["person"])
        else:
            person = get_object_or_404(Person, external_person_id=values["external_person_id"])
        access_request = access_request_receive(
            person=person, channel=AccessRequestChannel.API, requested_by=self.client.name
        )
        return _represent(access_request, status.HTTP_201_CREATED)


class AccessRequestDetailView(ApiView):
    required_scopes = {"GET": Scope.PRIVACY}

    @extend_schema(
        operation_id="access_requests_read",
        responses=AccessRequestSerializer,
        tags=["privacy"],
    )
    def get(self, request: Request, public_id) -> Response:
        return _represent(get_object_or_404(AccessRequest, public_id=public_id))


class ZipRenderer(JSONRenderer):
    """Lets ``Accept: application/zip`` (or ``?format=zip``) through content negotiation;
    the stream is the response itself, and an error is still rendered as JSON."""

    media_type = "application/zip"
    format = "zip"


class AccessRequestDownloadView(ApiView):
    query_parameters = {"GET": ("format",)}
    required_scopes = {"GET": Scope.PRIVACY}
    renderer_classes = [ZipRenderer, JSONRenderer]

    @extend_schema(
        operation_id="access_requests_download",
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["zip", "json"],
                description="zip (default): export.json and one CSV per table; json: the "
                "JSON document alone.",
            )
        ],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="export.json and one CSV file per table."
            ),
        },
        tags=["privacy"],
    )
    def get(self, request: Request, public_id):
        access_request = get_object_or_404(
            AccessRequest.objects.select_related("person"), public_id=public_id
        )
        export_format = "json" if request.accepted_renderer.format == "json" else "zip"
        return export_response(
            person=access_request.person,
            access_request=access_request,
            export_format=export_format,
        )


class EvidenceParamsSerializer(serializers.Serializer):
    list = serializers.CharField(
        required=False, max_length=64, help_text="A Vibes list id: the evidence for that list."
    )


class ConsentEvidenceView(ApiView):
    query_parameters = {"GET": (EvidenceParamsSerializer,)}
    required_scopes = {"GET": Scope.CONSENT_READ}

    @extend_schema(
        operation_id="consent_evidence_read",
        parameters=[EvidenceParamsSerializer],
        responses={200: OpenApiTypes.OBJECT},
        tags=["consent"],
        description="The story of the person's consent per list, oldest first: every opt-in "
        "with the disclosure shown, channel, time, address and user agent, the Vibes event "
        "that confirmed it, and every opt-out with its reason.",
    )
    def get(self, request: Request, pk: int) -> Response:
        params = EvidenceParamsSerializer(data=request.query_params)
        if not params.is_valid():
            raise QueryValidationError(params.errors)
        person = get_object_or_404(Person, pk=pk)
        list_id = params.validated_data.get("list")
        if list_id is not None:
            get_object_or_404(SubscriptionList, list_id=list_id)
        return Response(evidence_as_dict(consent_evidence(person=person, list_id=list_id)))


urlpatterns = [
    path("", AccessRequestCreateView.as_view(), name="access-requests"),
    path("<uuid:public_id>/", AccessRequestDetailView.as_view(), name="access-request"),
    path(
        "<uuid:public_id>/download/",
        AccessRequestDownloadView.as_view(),
        name="access-request-download",
    ),
]
"""Under ``/api/v1/privacy/access-requests/``."""
