"""Safe retries of POST requests: the ``Idempotency-Key`` header.

The first request with a key inserts an ``IdempotencyRecord`` and runs in the same database
transaction as its record, so a concurrent duplicate waits on the record's unique constraint
and then finds the finished answer (or, if the first one failed and rolled back, runs
itself). A retry with the same key and the same request gets the first answer again, marked
``Idempotent-Replayed: true``; the same key with another request gets 422. Only successful
answers are kept: an error changed nothing, so its retry simply runs again. Keys live for
``PREFCENTER_API_IDEMPOTENCY_TTL`` seconds (a day).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from prefcenter.api.models import ApiClient, IdempotencyRecord
from prefcenter.api.problems import HeaderValidationError, Unprocessable
from prefcenter.conf import setting

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255


class KeyReused(Unprocessable):
    problem_kind = "idempotency-key-reused"
    default_detail = (
        "This Idempotency-Key was already used with a different request; use a new key."
    )


def request_fingerprint(request: Request) -> str:
    """Method, path and body, the body compared as JSON (key order and spacing aside)."""
    try:
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    except (TypeError, ValueError):
        body = repr(request.data)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


def _clean_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable() or not key.isascii():
        raise HeaderValidationError(
            {HEADER: [f"Give 1 to {KEY_MAX_LENGTH} printable ASCII characters."]}
        )
    return key


def _replay(record: IdempotencyRecord) -> Response:
    data = json.loads(bytes(record.body)) if record.body else None
    headers = {REPLAYED_HEADER: "true"}
    if record.location:
        headers["Location"] = record.location
    return Response(data, status=record.status_code, headers=headers)


def idempotent(request: Request, handler: Callable[[], Response]) -> Response:
    """Run ``handler`` once per (client, Idempotency-Key); without a key, just run it."""
    raw = request.headers.get(HEADER)
    client = request.user
    if raw is None or not isinstance(client, ApiClient):
        return handler()
    key = _clean_key(raw)
    fingerprint = request_fingerprint(request)
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=setting("PREFCENTER_API_IDEMPOTENCY_TTL"))
    IdempotencyRecord.objects.filter(client=client, created_at__lt=cutoff).delete()
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    client=client, key=key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            # Taken: by a finished request, or by one that has just committed (its
            # transaction held our insert until then).
            record = IdempotencyRecord.objects.get(client=client, key=key)
            if record.fingerprint != fingerprint:
                raise KeyReused() from None
            return _replay(record)
        response = handler()
        if 200 <= response.status_code < 300:
            record.status_code = response.status_code
            record.body = json.dumps(response.data, cls=JSONEncoder).encode()
            record.location = response.headers.get("Location", "")
            record.save(update_fields=["status_code", "body", "location"])
        else:
            transaction.set_rollback(True)
        return response
