"""What every API view shares: key authentication, scopes, the per-client rate, JSON in
and out, problem details for every error, and ``Idempotency-Key`` on POST."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from prefcenter.api import problems
from prefcenter.api.auth import ApiKeyAuthentication, HasScope
from prefcenter.api.idempotency import idempotent
from prefcenter.api.models import ApiClient
from prefcenter.api.throttling import ClientRateThrottle
from prefcenter.conf import setting


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ClientRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    required_scopes: dict[str, str] = {}
    #: The query parameters each method takes: the serializers (or plain names) its schema
    #: declares. Any other parameter is refused with a 400 problem, so that a misspelt
    #: filter (``?update_since=``) never silently answers with everything.
    query_parameters: dict[str, tuple[Any, ...]] = {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        method = "GET" if request.method == "HEAD" else request.method
        if not hasattr(self, method.lower()):
            return  # dispatch answers 405 for a method the view does not take
        allowed: set[str] = set()
        for item in self.query_parameters.get(method, ()):
            allowed |= {item} if isinstance(item, str) else set(item().fields)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            takes = ", ".join(sorted(allowed)) or "no query parameters"
            raise problems.QueryValidationError(
                {
                    name: [f"Unknown query parameter; this operation takes: {takes}."]
                    for name in unknown
                }
            )

    def get_exception_handler(self):
        return problems.exception_handler

    @property
    def client(self) -> ApiClient:
        return self.request.user


class IdempotentPostView(ApiView):
    """A POST whose ``create`` runs once per ``Idempotency-Key``."""

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent(request, lambda: self.create(request, *args, **kwargs))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise NotImplementedError


class IdCursorPagination(CursorPagination):
    """Stable pages in id order: rows written while a client pages through are not
    skipped or repeated, and each page costs one indexed range read."""

    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request) -> int:
        self.page_size = setting("PREFCENTER_API_PAGE_SIZE")
        return super().get_page_size(request)
