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

import logging

from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
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
from vibes_integration.callbacks.services import callback_event_store, stored_headers
from vibes_integration.callbacks.views import (
    ALLOWED_METHODS,
    DUPLICATE,
    RETRY_AFTER_SECONDS,
    STORED,
    _refused,
)

# The plain view's logger: one place to filter or alert on refusals, whichever view answered.
logger = logging.getLogger("vibes_integration.callbacks.views")


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
        if raw.truncated_from_bytes is not None:
            logger.error(
                "A Vibes callback of %d bytes from %s is over VIBES_CALLBACK_MAX_BODY_BYTES "
                "(%d): its start is stored, marked truncated.",
                raw.truncated_from_bytes,
                verdict.client_address,
                len(raw.content),
            )
        try:
            created = callback_event_store(
                body=raw.content,
                method=request.method,
                headers=stored_headers(request.META),
                remote_addr=verdict.client_address,
                authenticated_as=verdict.authenticated_as,
                truncated_from_bytes=raw.truncated_from_bytes,
            )
        except DatabaseError:
            logger.exception("Could not store a Vibes callback; answered 503 so Vibes retries.")
            response = JsonResponse({"status": "unavailable"}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return HttpResponse(STORED if created else DUPLICATE, content_type="application/json")

    put = post

    def http_method_not_allowed(self, request: Request, *args, **kwargs) -> HttpResponse:
        response = HttpResponse(status=405)
        response["Allow"] = ALLOWED_METHODS
        return response

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, CallbackRefused):
            verdict = exc.verdict
            logger.warning(
                "Refused a Vibes callback from %s: %s (answered %d)",
                verdict.client_address or "an unknown address",
                verdict.reason,
                verdict.status,
            )
            return _refused(verdict.status)
        return super().handle_exception(exc)


callback_receive_drf = CallbackReceiveView.as_view()
