"""Every error of the API in one shape: RFC 9457 problem details.

``{"type", "title", "status", "detail"}`` as ``application/problem+json``, and for invalid
input an ``errors`` list with one entry per message: ``{"pointer": "#/custom_fields/size",
"detail": "Enter a number.", "code": "invalid"}`` (a JSON pointer into the request body, or
``"#/"`` for the request as a whole; query parameters as ``"?name"``, headers as
``"header:Name"``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# URNs, not web addresses: each names one kind of problem (listed in docs/api.md).
TYPE_BASE = "urn:prefcenter:problem:"

TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal server error",
}

TYPES = {
    400: "invalid-request",
    401: "authentication-required",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    415: "unsupported-media-type",
    422: "unprocessable",
    429: "too-many-requests",
    500: "server-error",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the resource's current state."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


def problem(status_code: int, detail: str, *, kind: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "type": TYPE_BASE + (kind or TYPES.get(status_code, "error")),
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": str(detail),
        **extra,
    }


def _pointer(field: str, *, where: str) -> str:
    if where == "query":
        return f"?{field}"
    if where == "header":
        return f"header:{field}"
    if field in ("non_field_errors", "__all__", ""):
        return "#/"
    parts = [part.replace("~", "~0").replace("/", "~1") for part in field.split(".")]
    return "#/" + "/".join(parts)


def _flatten(detail: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            yield from _flatten(value, f"{path}.{key}" if path else str(key))
    elif isinstance(detail, list):
        if all(not isinstance(item, Mapping | list) for item in detail):
            for item in detail:
                yield path, item
        else:
            for index, item in enumerate(detail):
                yield from _flatten(item, f"{path}.{index}" if path else str(index))
    else:
        yield path, detail


def field_errors(detail: Any, *, where: str = "body") -> list[dict[str, str]]:
    """DRF's nested error detail as a flat list of pointer + message + code."""
    return [
        {
            "pointer": _pointer(path, where=where),
            "detail": str(message),
            "code": str(getattr(message, "code", None) or "invalid"),
        }
        for path, message in _flatten(detail)
    ]


class QueryValidationError(exceptions.ValidationError):
    """Invalid query parameters (pointers are ``?name``, not body pointers)."""

    where = "query"


class HeaderValidationError(exceptions.ValidationError):
    """An invalid request header (pointers are ``header:Name``)."""

    where = "header"


def problem_response(status_code: int, data: dict[str, Any], headers=None) -> Response:
    return Response(data, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's exception handler, answering problem details for every error."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        logger.exception("Unexpected error in an API request", exc_info=exc)
        set_rollback()
        return problem_response(500, problem(500, "Something went wrong on our side."))

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail, where=getattr(exc, "where", "body"))
        data = problem(
            exc.status_code,
            "The request has invalid values; see errors.",
            errors=errors,
        )
    else:
        detail = exc.detail
        if isinstance(detail, list | dict):
            detail = "; ".join(entry["detail"] for entry in field_errors(detail))
        data = problem(exc.status_code, detail, kind=getattr(exc, "problem_kind", ""))
    set_rollback()
    return problem_response(exc.status_code, data, headers=headers)


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any address under /api/ that names no operation."""
    return JsonResponse(
        problem(404, "No API operation at this address."),
        status=404,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def query_values(request: Any) -> dict[str, str]:
    """Query parameters as a plain dict: DRF treats an empty value in a QueryDict as a
    missing one (as an HTML form would), so ``?since=`` would silently mean "no filter"."""
    return request.query_params.dict()
