"""Writing an event's outcome on the callback log: references, failures and retries.

Processing records what happened to every event it takes. This module holds the parts
that must work whatever the event held: recording a failure never depends on the body
being readable or storable. ``record_failure`` writes the failure in full (error,
traceback, and the references staff search the log by) in a savepoint, and when that
raises too, ``mark_failed_plainly`` writes only status, attempts, error and the retry,
so that an event that raised is never left waiting to be claimed first by every run.
"""

from __future__ import annotations

import datetime
import logging
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from vibes_integration.callbacks.events import (
    CallbackEventData,
    ParticipantEvent,
    PersonEvent,
    SubscriptionEvent,
    SubscriptionListEvent,
)
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.callbacks.parsing import parse_body
from vibes_integration.callbacks.signals import retry_due
from vibes_integration.callbacks.storable import storable_text

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# What processing writes; the request's columns (body, headers, ...) are never rewritten.
PROCESSING_FIELDS = [
    "status",
    "payload",
    "event_date",
    "person",
    "subscription_list",
    "person_key",
    "external_person_id",
    "mdn",
    "list_id",
    "attempts",
    "processed_at",
    "next_attempt_at",
    "error",
    "traceback",
    "notes",
]
RETRY_FIRST_DELAY = datetime.timedelta(seconds=30)
RETRY_MAX_DELAY = datetime.timedelta(hours=6)


def retry_delay(attempts: int) -> datetime.timedelta:
    """30 s, 2 min, 8 min, 32 min, about 2 h, then 6 h; ±20 % jitter so that events that
    failed together (a database hiccup) are not all retried in the same second."""
    delay = min(RETRY_FIRST_DELAY * 4 ** max(attempts - 1, 0), RETRY_MAX_DELAY)
    return delay * random.uniform(0.8, 1.2)


def truncated_reason(callback_event: CallbackEvent) -> str:
    """Why a body stored truncated cannot be applied, and what to do about it."""
    return (
        f"The body was {callback_event.truncated_from_bytes} bytes, more than "
        "VIBES_CALLBACK_MAX_BODY_BYTES allowed when it arrived: only its start is kept, so "
        "it cannot be read. Raise the limit and ask Vibes to send the event again, or deal "
        "with it by hand and mark it resolved."
    )


def copy_references(
    callback_event: CallbackEvent, payload: dict[str, Any], event: CallbackEventData
) -> None:
    """Fill the columns staff search the log by (person, number, list)."""
    callback_event.payload = payload
    callback_event.event_date = event.envelope.event_date
    if isinstance(event, SubscriptionEvent | PersonEvent | ParticipantEvent):
        callback_event.person_key = (event.person.person_key or "")[:64]
        callback_event.external_person_id = (event.person.external_person_id or "")[:128]
        callback_event.mdn = (event.person.mdn or "")[:32]
    if isinstance(event, SubscriptionEvent | SubscriptionListEvent | ParticipantEvent):
        callback_event.list_id = (event.list_id or "")[:64]


def record_failure(callback_event_id: int, exc: Exception, trace: str) -> str:
    """Record the failure in the caller's transaction, in full if that works, else plainly.

    The full record is written in a savepoint, so that when it raises (a value the
    database refuses, the body's references among them) the caller's transaction is
    usable again for the plain one.
    """
    try:
        with transaction.atomic():
            return mark_failed(callback_event_id, exc, trace)
    except Exception as recording:
        return mark_failed_plainly(callback_event_id, exc, trace, recording)


def _describe(exc: BaseException) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose message cannot even be built
        text = type(exc).__name__
    return storable_text(text)[:5000]


def _schedule_retry(callback_event_id: int, attempts: int) -> datetime.datetime | None:
    """Announce the next attempt with backoff (``signals.retry_due``: ``tasks`` enqueues it,
    in this transaction); None once ``MAX_ATTEMPTS`` were made."""
    if attempts >= MAX_ATTEMPTS:
        return None
    run_after = timezone.now() + retry_delay(attempts)
    retry_due.send(
        sender=CallbackEvent,
        callback_event_id=callback_event_id,
        attempt=attempts + 1,
        run_after=run_after,
    )
    return run_after


def _gave_up(attempts: int) -> str:
    return f"Gave up after {attempts} attempts; replay it once the cause is fixed."


def mark_failed(callback_event_id: int, exc: Exception, trace: str) -> str:
    """Record that applying the event raised, and schedule its retry, in the caller's
    transaction (whatever the attempt changed is already rolled back)."""
    callback_event = CallbackEvent.objects.select_for_update().filter(pk=callback_event_id).first()
    if callback_event is None:
        raise exc
    callback_event.attempts += 1
    callback_event.status = CallbackStatus.FAILED
    callback_event.processed_at = timezone.now()
    callback_event.error = _describe(exc)
    callback_event.traceback = storable_text(trace)
    try:
        payload, event = parse_body(callback_event.body)
        copy_references(callback_event, payload, event)
    except Exception:  # the references are a help to staff, not needed to record
        callback_event.payload = None
    callback_event.next_attempt_at = _schedule_retry(callback_event.pk, callback_event.attempts)
    if callback_event.next_attempt_at is None:
        callback_event.notes = [*callback_event.notes, _gave_up(callback_event.attempts)]
    callback_event.save(update_fields=PROCESSING_FIELDS)
    logger.warning(
        "Callback event %s (%s) failed, attempt %d: %s",
        callback_event.event_id,
        callback_event.callback_type,
        callback_event.attempts,
        callback_event.error,
    )
    return callback_event.status


def mark_failed_plainly(
    callback_event_id: int, exc: Exception, trace: str, recording: Exception
) -> str:
    """Record the failure with nothing read from the body: status, attempts, error and
    the retry, for when recording it in full raised too (``recording``). Raises only
    when the database takes nothing at all."""
    row = (
        CallbackEvent.objects.select_for_update()
        .filter(pk=callback_event_id)
        .values("attempts", "notes")
        .first()
    )
    if row is None:
        raise exc
    attempts = row["attempts"] + 1
    next_attempt_at = _schedule_retry(callback_event_id, attempts)
    notes = row["notes"] if next_attempt_at else [*row["notes"], _gave_up(attempts)]
    CallbackEvent.objects.filter(pk=callback_event_id).update(
        status=CallbackStatus.FAILED,
        attempts=attempts,
        processed_at=timezone.now(),
        next_attempt_at=next_attempt_at,
        error=_describe(exc),
        traceback=storable_text(
            f"{trace}\nRecording this failure in full raised too: {_describe(recording)}"
        ),
        notes=notes,
    )
    logger.warning(
        "Callback event %s failed, attempt %d: %s (recorded plainly: %s)",
        callback_event_id,
        attempts,
        _describe(exc),
        _describe(recording),
    )
    return CallbackStatus.FAILED
