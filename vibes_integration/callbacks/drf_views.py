"""The callback endpoint as a REST framework view, beside the plain one in ``views.py``.

It answers exactly as the plain view does (see that module's docstring): 200 for every
authenticated body, stored byte for byte (a body that is not JSON too), 503 when the
database cannot store it, HEAD 200, 405 for other methods, and the same 401/403/404
refusals. It has no serializer: the body is kept as bytes by
:class:`~vibes_integration.callbacks.drf_authentication.RawBodyParser` and parsed later
in the task worker. It is mounted at ``/vibes/callbacks/drf/`` so that ``make bench``
can measure it against the plain view in the same server (docs/callbacks.md has the
figures and which one Vibes is told to call).
"""

from __future__ import annotations

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from vibes_integration.callbacks.drf_authentication import (
    CallbackRefused,
    IgnoreAcceptNegotiation,
    RawBody,
    RawBodyParser,
    VibesCallbackAuthentication,
)
from vibes_integration.callbacks.views import ALLOWED_METHODS, refusal_answer, store_and_answer


class CallbackReceiveView(APIView):
    """Authenticate, store, answer; nothing else (no throttling, no content negotiation)."""

    http_method_names = ["post", "put", "head"]
    authentication_classes = [VibesCallbackAuthentication]
    permission_classes: list = []
    throttle_classes: list = []
    parser_classes = [RawBodyParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = IgnoreAcceptNegotiation

    def head(self, request: Request, token: str | None = None) -> HttpResponse:
        # Vibes and load balancers probe the URL; the answer reveals nothing.
        return HttpResponse(status=200)

    def post(self, request: Request, token: str | None = None) -> HttpResponse:
        verdict = request.auth
        data = request.data
        raw = data if isinstance(data, RawBody) else RawBody(b"")
        return store_and_answer(
            method=request.method,
            meta=request.META,
            verdict=verdict,
            body=raw.content,
            truncated_from_bytes=raw.truncated_from_bytes,
        )

    put = post

    def http_method_not_allowed(self, request: Request, *args, **kwargs) -> HttpResponse:
        response = HttpResponse(status=405)
        response["Allow"] = ALLOWED_METHODS
        return response

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, CallbackRefused):
            return refusal_answer(exc.verdict)
        return super().handle_exception(exc)


callback_receive_drf = CallbackReceiveView.as_view()
