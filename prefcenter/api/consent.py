"""The consent ledger: read a page at a time, or export all of it as one stream.

The export streams rows from a server-side cursor (``QuerySet.iterator``) straight into the
response, so its memory stays flat whether the ledger holds a thousand lines or ten million.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from crm.models import LEDGER_FIELDS, ConsentEvent
from prefcenter.api.problems import QueryValidationError, query_values
from prefcenter.api.scopes import Scope
from prefcenter.api.serializers import (
    ConsentEventPageSerializer,
    ConsentEventSerializer,
    ConsentFilterSerializer,
    ConsentListParamsSerializer,
)
from prefcenter.api.views import ApiView, IdCursorPagination

EXPORT_CHUNK = 2000
EXPORT_FIELDS = [
    "id",
    "person_id",
    "person__external_person_id",
    "subscription_list__list_id",
    *LEDGER_FIELDS,
]
EXPORT_NAMES = {
    "person__external_person_id": "external_person_id",
    "subscription_list__list_id": "list_id",
}
EXPORT_COLUMNS = [EXPORT_NAMES.get(name, name) for name in EXPORT_FIELDS]
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def consent_filtered(
    request: Request, params: type[ConsentFilterSerializer] = ConsentFilterSerializer
) -> QuerySet[ConsentEvent]:
    filters = params(data=query_values(request))
    if not filters.is_valid():
        raise QueryValidationError(filters.errors)
    values = filters.validated_data
    queryset = ConsentEvent.objects.all()
    if "person" in values:
        queryset = queryset.filter(person_id=values["person"])
    if "external_person_id" in values:
        queryset = queryset.filter(person__external_person_id=values["external_person_id"])
    if "list" in values:
        queryset = queryset.filter(subscription_list__list_id=values["list"])
    if "action" in values:
        queryset = queryset.filter(action=values["action"])
    if "since" in values:
        queryset = queryset.filter(occurred_at__gte=values["since"])
    if "until" in values:
        queryset = queryset.filter(occurred_at__lt=values["until"])
    return queryset


class ConsentEventListView(ApiView):
    query_parameters = {"GET": (ConsentListParamsSerializer,)}
    required_scopes = {"GET": Scope.CONSENT_READ}

    @extend_schema(
        operation_id="consent_events_list",
        parameters=[ConsentListParamsSerializer],
        responses=ConsentEventPageSerializer,
        tags=["consent"],
    )
    def get(self, request: Request) -> Response:
        queryset = consent_filtered(request, ConsentListParamsSerializer).select_related(
            "person", "subscription_list"
        )
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(queryset, request, self)
        return paginator.get_paginated_response(ConsentEventSerializer(page, many=True).data)


def _rows(queryset: QuerySet[ConsentEvent]) -> Iterator[dict[str, Any]]:
    values = queryset.order_by("id").values_list(*EXPORT_FIELDS)
    for row in values.iterator(chunk_size=EXPORT_CHUNK):
        yield dict(zip(EXPORT_COLUMNS, row, strict=True))


def _ndjson(rows: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    for row in rows:
        yield (json.dumps(row, cls=JSONEncoder, ensure_ascii=False) + "\n").encode()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> bytes:
        data = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow(EXPORT_COLUMNS)
    yield flush()
    for row in rows:
        writer.writerow([_csv_cell(row[name]) for name in EXPORT_COLUMNS])
        yield flush()


EXPORTS = {
    "ndjson": ("application/x-ndjson", _ndjson),
    "csv": ("text/csv; charset=utf-8", _csv),
}


class NdjsonRenderer(JSONRenderer):
    """Lets ``Accept: application/x-ndjson`` through content negotiation; the stream is
    the response itself, and an error is still rendered as JSON problem details."""

    media_type = "application/x-ndjson"
    format = "ndjson"


class CsvRenderer(JSONRenderer):
    media_type = "text/csv"
    format = "csv"


class ConsentExportView(ApiView):
    """``/consent-events/export.ndjson`` and ``.csv``: every matching line, oldest first."""

    query_parameters = {"GET": (ConsentFilterSerializer,)}

    required_scopes = {"GET": Scope.CONSENT_READ}
    renderer_classes = [JSONRenderer, NdjsonRenderer, CsvRenderer]
    export_format = "ndjson"

    @extend_schema(
        operation_id="consent_events_export",
        parameters=[ConsentFilterSerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR, description="One JSON object per line."
            ),
        },
        tags=["consent"],
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        content_type, encode = EXPORTS[self.export_format]
        queryset = consent_filtered(request)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response = StreamingHttpResponse(encode(_rows(queryset)), content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="consent-{stamp}.{self.export_format}"'
        )
        return response


class ConsentCsvExportView(ConsentExportView):
    export_format = "csv"

    @extend_schema(
        operation_id="consent_events_export_csv",
        parameters=[ConsentFilterSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="A header row, then one row per line."
            ),
        },
        tags=["consent"],
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        return super().get(request)
