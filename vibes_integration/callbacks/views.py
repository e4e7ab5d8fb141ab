"""The endpoint Vibes delivers callbacks to: authenticate, store, answer. Nothing else.

A plain Django view rather than a REST framework one, on purpose: the body must be
stored byte for byte before anything interprets it, and a body that is not JSON must be
kept and answered 2xx (a 4xx makes Vibes drop the event for good), which a parser that
rejects bad input with 400 would not do. Parsing and applying happen in the task worker.

Answers: 200 stored (or a repeat of a stored event); 401/403 not from Vibes (nothing
stored, one log line); 503 the event could not be stored (Vibes delivers it again later).
A body larger than ``VIBES_CALLBACK_MAX_BODY_BYTES`` is not refused (Vibes never
delivers again after a 4xx): its start is stored, marked truncated with the size it had,
answered 200, and processing records it invalid for staff to see.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from prefcenter.conf import setting
from vibes_integration.callbacks.authentication import Verdict, authenticate
from vibes_integration.callbacks.services import callback_event_store, stored_headers

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
STORED = b'{"status": "stored"}'
DUPLICATE = b'{"status": "duplicate"}'
ALLOWED_METHODS = "POST, PUT, HEAD"
READ_CHUNK_BYTES = 64 * 1024


def _refused(status: int) -> JsonResponse:
    response = JsonResponse({"status": "refused"}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="Vibes callbacks", charset="UTF-8"'
    return response


@csrf_exempt
def callback_receive(request: HttpRequest, token: str | None = None) -> HttpResponse:
    if request.method == "HEAD":
        # Vibes and load balancers probe the URL; the answer reveals nothing.
        return HttpResponse(status=200)
    if request.method not in {"POST", "PUT"}:
        response = HttpResponse(status=405)
        response["Allow"] = ALLOWED_METHODS
        return response

    verdict = authenticate(request, token)
    if not verdict.allowed:
        return refusal_answer(verdict)
    body, truncated_from_bytes = _read_body(request, setting("VIBES_CALLBACK_MAX_BODY_BYTES"))
    return store_and_answer(
        method=request.method,
        meta=request.META,
        verdict=verdict,
        body=body,
        truncated_from_bytes=truncated_from_bytes,
    )


def refusal_answer(verdict: Verdict) -> JsonResponse:
    """One log line (no body: it is not from Vibes) and the refusal; both views answer so."""
    logger.warning(
        "Refused a Vibes callback from %s: %s (answered %d)",
        verdict.client_address or "an unknown address",
        verdict.reason,
        verdict.status,
    )
    return _refused(verdict.status)


def store_and_answer(
    *,
    method: str,
    meta: Mapping[str, Any],
    verdict: Verdict,
    body: bytes,
    truncated_from_bytes: int | None,
) -> HttpResponse:
    """Store an authenticated body as received and answer: 200 stored or duplicate, 503
    when the database cannot store it. Both views (plain and REST framework) end here."""
    if truncated_from_bytes is not None:
        logger.error(
            "A Vibes callback of %d bytes from %s is over VIBES_CALLBACK_MAX_BODY_BYTES "
            "(%d): its start is stored, marked truncated.",
            truncated_from_bytes,
            verdict.client_address,
            len(body),
        )
    try:
        created = callback_event_store(
            body=body,
            method=method,
            headers=stored_headers(meta),
            remote_addr=verdict.client_address,
            authenticated_as=verdict.authenticated_as,
            truncated_from_bytes=truncated_from_bytes,
        )
    except DatabaseError:
        logger.exception("Could not store a Vibes callback; answered 503 so Vibes retries.")
        response = JsonResponse({"status": "unavailable"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(STORED if created else DUPLICATE, content_type="application/json")


def _read_body(request: HttpRequest, max_bytes: int) -> tuple[bytes, int | None]:
    """The body, or its first ``max_bytes`` and the size it had when it is larger.

    Read until the end (a read may return less than asked); the rest of a larger body is
    read and counted, not kept, so that memory stays bounded whatever the client sends.
    """
    kept = bytearray()
    size = 0
    while chunk := request.read(READ_CHUNK_BYTES if size > max_bytes else max_bytes + 1 - size):
        size += len(chunk)
        if len(kept) <= max_bytes:
            kept += chunk[: max_bytes + 1 - len(kept)]
    if size <= max_bytes:
        return bytes(kept), None
    return bytes(kept[:max_bytes]), size
