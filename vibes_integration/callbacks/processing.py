"""Processing of one stored callback event: parse, apply, record the outcome.

Runs in the task worker, never in the request. Parsing and applying happen in one
transaction with the event row locked, so two workers cannot apply the same event at
once and a failure leaves nothing half-applied. A failure is then recorded on the event
(error and traceback) and retried by a new task scheduled with exponential backoff; after
``MAX_ATTEMPTS`` the event stays failed, visible to staff, until it is replayed.
"""

from __future__ import annotations

import datetime
import logging
import random
import traceback
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from vibes_integration.callbacks.events import (
    CallbackEventData,
    ParticipantEvent,
    PersonEvent,
    SubscriptionEvent,
    SubscriptionListEvent,
)
from vibes_integration.callbacks.handlers import HandlerContext, Outcome, handle
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus, RequestedTestEvent
from vibes_integration.callbacks.parsing import CallbackParseError, parse_body
from vibes_integration.callbacks.services import PROCESSING_WINDOW, forget_scheduled
from vibes_integration.callbacks.tasks import (
    process_callback_event,
    process_received_callback_events,
)

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


def callback_events_process_received(*, tail: bool = False, batch: int = 200) -> int:
    """Process every event still waiting to be processed, oldest first.

    Walks forward by id so that an event left waiting (its failure could not even be
    recorded) is not picked again in the same run. An event another worker is
    processing right now is skipped. Unless this is the ``tail`` run, one tail run is
    scheduled a window later (see ``services.schedule_processing``).
    """
    forget_scheduled()
    if not tail:
        process_received_callback_events.using(
            run_after=timezone.now() + PROCESSING_WINDOW
        ).enqueue(tail=True)
    processed = 0
    last_pk = 0
    while True:
        pks = list(
            CallbackEvent.objects.filter(status=CallbackStatus.RECEIVED, pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        for pk in pks:
            if callback_event_process(pk, skip_locked=True) != "locked":
                processed += 1
        if len(pks) < batch:
            return processed
        last_pk = pks[-1]


def callback_event_process(
    callback_event_id: int, *, replay: bool = False, attempt: int = 1, skip_locked: bool = False
) -> str:
    """Process the event unless it is already done; returns its status afterwards.

    ``attempt`` is the attempt a scheduled retry was made for: when the event was
    processed or replayed since, the retry is out of date and does nothing. ``replay``
    processes the event whatever its status. With ``skip_locked`` an event locked by
    another worker is left to it ("locked").
    """
    try:
        return _process(callback_event_id, replay=replay, attempt=attempt, skip_locked=skip_locked)
    except Exception as exc:
        return _record_failure(callback_event_id, exc, traceback.format_exc())


def _should_run(callback_event: CallbackEvent, *, replay: bool, attempt: int) -> bool:
    if replay or callback_event.status == CallbackStatus.RECEIVED:
        return True
    return callback_event.status == CallbackStatus.FAILED and callback_event.attempts == attempt - 1


@transaction.atomic
def _process(callback_event_id: int, *, replay: bool, attempt: int, skip_locked: bool) -> str:
    callback_event = (
        CallbackEvent.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .annotate(
            requested_test=Exists(RequestedTestEvent.objects.filter(event_id=OuterRef("event_id")))
        )
        .filter(pk=callback_event_id)
        .first()
    )
    if callback_event is None:
        if skip_locked:
            return "locked"
        logger.warning("Callback event %s no longer exists; nothing to process.", callback_event_id)
        return "missing"
    if not _should_run(callback_event, replay=replay, attempt=attempt):
        return callback_event.status
    callback_event.attempts += 1
    callback_event.processed_at = timezone.now()
    callback_event.next_attempt_at = None
    callback_event.error = ""
    callback_event.traceback = ""
    try:
        payload, event = parse_body(callback_event.body)
    except CallbackParseError as exc:
        callback_event.status = CallbackStatus.INVALID
        callback_event.error = str(exc)
        callback_event.save(update_fields=PROCESSING_FIELDS)
        return callback_event.status

    copy_references(callback_event, payload, event)
    context = HandlerContext(
        callback_event=callback_event,
        event_date=event.envelope.event_date or callback_event.received_at,
    )
    if event.envelope.event_date is None:
        context.notes.append("The body has no event_date; the time it was received is used.")
    if callback_event.requested_test:
        context.notes.append("A test event requested with `vibes_callbacks test`; not applied.")
        outcome = Outcome(status=CallbackStatus.IGNORED)
    else:
        outcome = handle(event, context)
    callback_event.status = outcome.status
    callback_event.person = outcome.person
    callback_event.subscription_list = outcome.subscription_list
    callback_event.notes = context.notes
    callback_event.save(update_fields=PROCESSING_FIELDS)
    return callback_event.status


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


def _record_failure(callback_event_id: int, exc: Exception, trace: str) -> str:
    with transaction.atomic():
        callback_event = (
            CallbackEvent.objects.select_for_update().filter(pk=callback_event_id).first()
        )
        if callback_event is None:
            raise exc
        callback_event.attempts += 1
        callback_event.status = CallbackStatus.FAILED
        callback_event.processed_at = timezone.now()
        callback_event.error = f"{type(exc).__name__}: {exc}"[:5000]
        callback_event.traceback = trace
        try:
            payload, event = parse_body(callback_event.body)
            copy_references(callback_event, payload, event)
        except CallbackParseError:
            pass
        if callback_event.attempts < MAX_ATTEMPTS:
            run_after = timezone.now() + retry_delay(callback_event.attempts)
            callback_event.next_attempt_at = run_after
            process_callback_event.using(run_after=run_after).enqueue(
                callback_event.pk, attempt=callback_event.attempts + 1
            )
        else:
            callback_event.next_attempt_at = None
            callback_event.notes = [
                *callback_event.notes,
                f"Gave up after {callback_event.attempts} attempts; replay it once the "
                "cause is fixed.",
            ]
        callback_event.save(update_fields=PROCESSING_FIELDS)
    logger.warning(
        "Callback event %s (%s) failed, attempt %d: %s",
        callback_event.event_id,
        callback_event.callback_type,
        callback_event.attempts,
        callback_event.error,
    )
    return callback_event.status
