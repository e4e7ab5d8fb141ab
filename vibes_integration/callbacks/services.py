"""Writes to the callback log: storing a delivery, replaying and resolving events.

``callback_event_store`` is what the request runs. It writes the event and its
processing task in ONE transaction (the database task backend stores the task as a row
in the same database), so when it returns the event is durable and its processing is
guaranteed to be scheduled; when it raises, neither exists and the view answers 503 so
that Vibes delivers again. That is why the task is enqueued inside the transaction and
not on commit: there is no moment at which a stored event has no task.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Iterable, Mapping

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vibes_integration.callbacks.models import (
    CALLBACK_TYPE_MAX_LENGTH,
    EVENT_ID_MAX_LENGTH,
    CallbackEvent,
    CallbackStatus,
)
from vibes_integration.callbacks.parsing import peek
from vibes_integration.callbacks.tasks import process_callback_event

logger = logging.getLogger(__name__)

# The request headers worth keeping as evidence; Authorization never is.
STORED_HEADERS = {
    "CONTENT_TYPE": "Content-Type",
    "CONTENT_LENGTH": "Content-Length",
    "HTTP_USER_AGENT": "User-Agent",
    "HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
    "HTTP_X_FORWARDED_PROTO": "X-Forwarded-Proto",
    "HTTP_X_REQUEST_ID": "X-Request-Id",
    "HTTP_X_AMZN_TRACE_ID": "X-Amzn-Trace-Id",
    "HTTP_VIA": "Via",
}


def stored_headers(meta: Mapping[str, str]) -> dict[str, str]:
    return {name: str(meta[key])[:500] for key, name in STORED_HEADERS.items() if meta.get(key)}


def event_key(event_id: str | None, body: bytes) -> str:
    """Vibes' event id, or a hash of the body when there is none (or it is too long).

    The hash makes a body Vibes delivers twice without an id count once too.
    """
    if event_id and len(event_id) <= EVENT_ID_MAX_LENGTH:
        return event_id
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _valid_ip(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _body_text(body: bytes) -> str:
    # Kept verbatim where possible; bytes that are not UTF-8 are written as \xNN, and NUL
    # (which PostgreSQL text cannot hold) as \x00, so nothing is silently dropped.
    return body.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")


def callback_event_store(
    *,
    body: bytes,
    method: str,
    headers: Mapping[str, str],
    remote_addr: str | None,
    authenticated_as: str,
) -> tuple[CallbackEvent | None, bool]:
    """Store one delivery; returns (event, True), or (None, False) for a duplicate.

    Raises ``DatabaseError`` when the event could not be stored.
    """
    peeked = peek(body)
    key = event_key(peeked.event_id, body)
    try:
        with transaction.atomic():
            callback_event = CallbackEvent.objects.create(
                event_id=key,
                callback_type=peeked.callback_type[:CALLBACK_TYPE_MAX_LENGTH],
                body=_body_text(body),
                headers=dict(headers),
                method=method[:8],
                remote_addr=_valid_ip(remote_addr),
                authenticated_as=authenticated_as[:150],
                delivery_attempt=peeked.delivery_attempt,
            )
            process_callback_event.enqueue(callback_event.pk)
    except IntegrityError:
        _count_duplicate(key)
        return None, False
    return callback_event, True


def _count_duplicate(key: str) -> None:
    """Best effort: the event is already stored, so failing to count it loses nothing."""
    try:
        CallbackEvent.objects.filter(event_id=key).update(deliveries=F("deliveries") + 1)
    except DatabaseError:
        logger.warning("Could not count a repeated delivery of callback event %s", key)


@transaction.atomic
def callback_event_replay(*, callback_events: Iterable[CallbackEvent]) -> int:
    """Process the events again (after a fix): each gets a fresh task, run by the worker.

    Applying an event twice is harmless: persons and lists are matched, subscriptions
    keep their event dates, and a consent event is written once per callback event.
    """
    count = 0
    for callback_event in callback_events:
        CallbackEvent.objects.filter(pk=callback_event.pk).update(next_attempt_at=None)
        process_callback_event.enqueue(callback_event.pk, replay=True)
        count += 1
    return count


@transaction.atomic
def callback_event_resolve(*, callback_events: Iterable[CallbackEvent], by: str) -> int:
    """Staff dealt with these events by hand: take them off the list of problems."""
    now = timezone.now()
    count = 0
    for callback_event in CallbackEvent.objects.select_for_update().filter(
        pk__in=[e.pk for e in callback_events]
    ):
        if callback_event.status not in {CallbackStatus.FAILED, CallbackStatus.INVALID}:
            continue
        callback_event.notes = [
            *callback_event.notes,
            f"Marked resolved by {by} at {now:%Y-%m-%d %H:%M:%S} UTC "
            f"(was {callback_event.status}).",
        ]
        callback_event.status = CallbackStatus.RESOLVED
        callback_event.next_attempt_at = None
        callback_event.save(update_fields=["status", "notes", "next_attempt_at"])
        count += 1
    return count
