"""Processing of stored callback events: parse, apply, record the outcome.

Runs in the task worker, never in the request. The processing run applies waiting events
in batches: one transaction claims up to ``BATCH_SIZE`` of them (locked, so that a second
worker claims the next ones instead), applies them and commits them together. A commit
per batch rather than per event is what lets the worker keep up with the endpoint (on
PostgreSQL a commit waits for the disk). The first try takes no savepoint per event; when
an event raises, the batch is rolled back and applied again with a savepoint per event,
so the event that raised changes nothing and the others stay applied; its failure (error
and traceback) is recorded in the same transaction and a retry is scheduled with
exponential backoff; after ``MAX_ATTEMPTS`` the event stays
failed, visible to staff, until it is replayed. Should the batch's transaction itself
break (the connection is lost, the commit fails), none of it is kept and its events are
processed again one per transaction, the way retries and replays always are.

Whatever an event raises, it is recorded failed and the run goes on with the events behind
it: an event left ``received`` would be claimed first by every later run. Recording the
failure in full (with the references read from the body) may raise too; then a plain
record (status, attempts, error, retry) is written instead, in a fresh transaction when
the batch's is broken (``recording.record_failure``). Only when not even that can be
written (the database is gone) does the event stay waiting, and the run walks on past it.

The plain subscription events of a batch (known persons, nothing else in the batch about
them) are applied together first, by ``bulk_apply``, in a handful of statements; see
docs/callbacks.md "Processing".
"""

from __future__ import annotations

import copy
import datetime
import logging
import time
import traceback

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from crm.erasure_models import person_is_erased
from crm.models import SubscriptionList
from crm.services.rows import rows_update
from vibes_integration.callbacks import bulk_apply
from vibes_integration.callbacks.erasure import callback_events_of_erased_scrub
from vibes_integration.callbacks.handlers import HandlerContext, HandlerResult, handle
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus, RequestedTestEvent
from vibes_integration.callbacks.parsing import CallbackParseError, parse_body
from vibes_integration.callbacks.recording import (
    PROCESSING_FIELDS,
    copy_references,
    mark_failed_plainly,
    record_failure,
    truncated_reason,
)
from vibes_integration.callbacks.storable import storable_text

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
# A batch holds its events' locks (on SQLite the database's write lock, which the
# endpoint's INSERT waits for) until it commits: a batch stops taking events after this.
BATCH_SECONDS = 0.25


def callback_events_process_received(*, batch: int = BATCH_SIZE) -> int:
    """Process every event still waiting to be processed, oldest first; returns how many.

    Walks forward by id so that an event left waiting (its failure could not even be
    recorded) is not picked again in the same run. Events another worker has claimed
    are left to it. The task that runs this schedules the next run
    (``tasks.process_received_callback_events``).
    """
    processed = 0
    last_pk = 0
    while True:
        handled, last_pk, more = _process_batch(after_pk=last_pk, size=batch)
        processed += handled
        if not more:
            return processed


class _EventRaised(Exception):
    """Applying an event of a batch raised: the batch is rolled back and applied again."""

    def __init__(self, callback_event_id: int, exc: Exception, trace: str) -> None:
        super().__init__(callback_event_id)
        self.failure = (exc, trace)
        self.callback_event_id = callback_event_id


def _process_batch(*, after_pk: int, size: int) -> tuple[int, int, bool]:
    """Claim and apply the next waiting events after ``after_pk`` in one transaction.

    Returns how many were handled, the id to walk on from, and whether more may wait.
    The events are first applied without a savepoint each (a savepoint costs two
    statements per event): when one of them raises, the whole batch is rolled back and
    applied again by ``_process_again``.
    """
    claimed: list[int] = []
    try:
        with transaction.atomic():
            callback_events = _claim(after_pk=after_pk, size=size)
            claimed = [callback_event.pk for callback_event in callback_events]
            applied = _apply_all(callback_events, failures=None)
    except _EventRaised as raised:
        failures = {raised.callback_event_id: raised.failure}
        return _process_again(claimed, size=size, failures=failures)
    except Exception:
        if not claimed:
            raise
        return _process_one_by_one(claimed, size=size)
    if not claimed:
        return 0, after_pk, False
    return _walk_on(claimed, callback_events, *applied, size=size)


def _process_again(
    claimed: list[int], *, size: int, failures: dict[int, tuple[Exception, str]]
) -> tuple[int, int, bool]:
    """Apply a batch again after one of its events raised; nothing of the first try is kept.

    The event that raised is not applied a second time: its failure is recorded (and its
    retry scheduled) as if it had failed now, so an event is tried once per processing
    run. Each of the others is applied in its own savepoint, so that one more event that
    raises rolls back to its savepoint only and is recorded failed while the others stay
    applied. Events another worker took in the meantime are left to it.
    """
    try:
        with transaction.atomic():
            callback_events = list(
                _locked(skip_locked=True)
                .filter(pk__in=claimed, status=CallbackStatus.RECEIVED)
                .order_by("pk")
            )
            applied = _apply_all(callback_events, failures=failures)
    except Exception:
        return _process_one_by_one(claimed, size=size)
    return _walk_on(claimed, callback_events, *applied, size=size)


def _process_one_by_one(claimed: list[int], *, size: int) -> tuple[int, int, bool]:
    """The batch's transaction itself broke (the connection is lost, the commit fails):
    none of it was kept; process its events one per transaction, the way retries and
    replays always are."""
    logger.warning(
        "A batch of %d callback events could not be committed; processing them one by one.",
        len(claimed),
        exc_info=True,
    )
    handled = 0
    for pk in claimed:
        try:
            handled += callback_event_process(pk, skip_locked=True) != "locked"
        except Exception:
            # Not even its failure could be written (the database is gone): it stays
            # waiting for the next run, and this one goes on with the others.
            logger.exception("Callback event %s could not be processed or recorded.", pk)
    return handled, claimed[-1], len(claimed) == size


def _walk_on(
    claimed: list[int],
    callback_events: list[CallbackEvent],
    walked: int,
    handled: int,
    *,
    size: int,
) -> tuple[int, int, bool]:
    """What ``_process_batch`` returns once the first ``walked`` of ``callback_events``
    and ``handled`` events in all are done."""
    if walked < len(callback_events):
        # Stopped at the deadline: the rest of the claim (but for the events applied
        # together, which are no longer waiting) is taken by the next batch.
        return handled, callback_events[walked - 1].pk, True
    return handled, claimed[-1], len(claimed) == size


def _apply_all(
    callback_events: list[CallbackEvent], *, failures: dict[int, tuple[Exception, str]] | None
) -> tuple[int, int]:
    """Apply claimed events in order until the batch's time is up; returns how many of
    the first events were walked through, and how many events were handled in all.

    On the first try (``failures`` None) the events ``bulk_apply`` selects are applied
    together first (their outcome does not depend on the others), then the others one
    by one in order; one of those that raises ends the batch with ``_EventRaised``.
    On the second try each event gets a savepoint, and the events in ``failures`` are
    recorded failed without being applied again.
    """
    together = _apply_together(callback_events) if failures is None else set()
    subscription_lists: dict[str, SubscriptionList] = {}
    deadline = time.monotonic() + BATCH_SECONDS
    applied = 0
    for callback_event in callback_events:
        if callback_event.pk in together:
            applied += 1
            continue
        if failures is None:
            try:
                _apply(callback_event, subscription_lists)
            except Exception as exc:
                raise _EventRaised(callback_event.pk, exc, traceback.format_exc()) from exc
        elif callback_event.pk in failures:
            subscription_lists.clear()
            record_failure(callback_event.pk, *failures[callback_event.pk])
        else:
            _apply_in_savepoint(callback_event, subscription_lists)
        applied += 1
        if time.monotonic() > deadline:
            break
    later = sum(callback_event.pk in together for callback_event in callback_events[applied:])
    return applied, applied + later


def _apply_together(callback_events: list[CallbackEvent]) -> set[int]:
    """Apply the events ``bulk_apply`` can take together; returns their ids.

    They are written in one savepoint: should anything of it raise (a subscription
    another worker created meanwhile, a database error), none of it is kept and all
    of them are applied one by one like the rest of the batch.
    """
    try:
        with transaction.atomic():
            planned = bulk_apply.plan(callback_events)
            if not planned:
                return set()
            applied = bulk_apply.apply(planned)
            _record_applied(applied)
    except Exception:
        logger.warning(
            "Callback events could not be applied together; applying them one by one.",
            exc_info=True,
        )
        return set()
    return {item.callback_event.pk for item in applied}


def _record_applied(applied: list[bulk_apply.Planned]) -> None:
    """Save the outcome ``_apply`` would save for each event, in one UPDATE.

    Copies are saved, so that the claimed events stay as they were should the savepoint
    be rolled back (they are then applied one by one, from their first attempt).
    """
    now = timezone.now()
    outcomes = []
    for item in applied:
        callback_event = copy.copy(item.callback_event)
        _begin_attempt(callback_event, now)
        copy_references(callback_event, item.payload, item.event)
        callback_event.status = CallbackStatus.PROCESSED
        callback_event.person = item.person
        callback_event.subscription_list = item.subscription_list
        callback_event.notes = []
        outcomes.append(callback_event)
    rows_update(outcomes, PROCESSING_FIELDS)
    erased = [event.pk for event in outcomes if event.person and person_is_erased(event.person)]
    if erased:
        callback_events_of_erased_scrub(erased)


def _claim(*, after_pk: int, size: int) -> list[CallbackEvent]:
    """The next waiting events, locked until the batch commits.

    PostgreSQL skips rows another worker has locked, so two workers take different
    events. SQLite has no row locks: its transactions begin IMMEDIATE (the project's
    settings), so this read happens under the write lock and a second worker waits for
    the first batch to commit, then finds those events done and claims the next ones.
    """
    return list(
        _locked(skip_locked=True)
        .filter(status=CallbackStatus.RECEIVED, pk__gt=after_pk)
        .order_by("pk")[:size]
    )


def _locked(*, skip_locked: bool):
    return CallbackEvent.objects.select_for_update(skip_locked=skip_locked, of=("self",)).annotate(
        requested_test=Exists(RequestedTestEvent.objects.filter(event_id=OuterRef("event_id")))
    )


def _apply_in_savepoint(
    callback_event: CallbackEvent, subscription_lists: dict[str, SubscriptionList]
) -> None:
    """Apply one claimed event; if it raises, undo only its own changes and record why."""
    try:
        with transaction.atomic():
            _apply(callback_event, subscription_lists)
    except Exception as exc:
        # Its rollback may have undone a list it created: forget the lists found so far.
        subscription_lists.clear()
        record_failure(callback_event.pk, exc, traceback.format_exc())


def callback_event_process(
    callback_event_id: int, *, replay: bool = False, attempt: int = 1, skip_locked: bool = False
) -> str:
    """Process the event unless it is already done; returns its status afterwards.

    One event in its own transaction: retries and replays. ``attempt`` is the attempt a
    scheduled retry was made for: when the event was processed or replayed since, the
    retry is out of date and does nothing. ``replay`` processes the event whatever its
    status. With ``skip_locked`` an event locked by another worker is left to it
    ("locked"). Raises only when not even the event's failure can be written.
    """
    try:
        return _process(callback_event_id, replay=replay, attempt=attempt, skip_locked=skip_locked)
    except Exception as exc:
        trace = traceback.format_exc()
        try:
            with transaction.atomic():
                return record_failure(callback_event_id, exc, trace)
        except Exception as recording:
            # The transaction itself broke (a lost connection): a fresh one, plainly.
            with transaction.atomic():
                return mark_failed_plainly(callback_event_id, exc, trace, recording)


def _should_run(callback_event: CallbackEvent, *, replay: bool, attempt: int) -> bool:
    if replay or callback_event.status == CallbackStatus.RECEIVED:
        return True
    return callback_event.status == CallbackStatus.FAILED and callback_event.attempts == attempt - 1


@transaction.atomic
def _process(callback_event_id: int, *, replay: bool, attempt: int, skip_locked: bool) -> str:
    callback_event = _locked(skip_locked=skip_locked).filter(pk=callback_event_id).first()
    if callback_event is None:
        if skip_locked:
            return "locked"
        logger.warning("Callback event %s no longer exists; nothing to process.", callback_event_id)
        return "missing"
    if not _should_run(callback_event, replay=replay, attempt=attempt):
        return callback_event.status
    return _apply(callback_event)


def _begin_attempt(callback_event: CallbackEvent, now: datetime.datetime) -> None:
    """Count an attempt starting ``now`` and clear what the previous one left."""
    callback_event.attempts += 1
    callback_event.processed_at = now
    callback_event.next_attempt_at = None
    callback_event.error = ""
    callback_event.traceback = ""


def _apply(
    callback_event: CallbackEvent, subscription_lists: dict[str, SubscriptionList] | None = None
) -> str:
    """Parse and apply a locked event and save its outcome, in the caller's transaction.

    ``subscription_lists`` is shared by the events of one batch (see ``HandlerContext``).
    """
    _begin_attempt(callback_event, timezone.now())
    try:
        if callback_event.body_truncated:
            raise CallbackParseError(truncated_reason(callback_event))
        payload, event = parse_body(callback_event.body)
    except CallbackParseError as exc:
        callback_event.status = CallbackStatus.INVALID
        callback_event.error = storable_text(str(exc))
        callback_event.save(update_fields=PROCESSING_FIELDS)
        return callback_event.status

    copy_references(callback_event, payload, event)
    context = HandlerContext(
        callback_event=callback_event,
        event_date=event.envelope.event_date or callback_event.received_at,
        subscription_lists={} if subscription_lists is None else subscription_lists,
    )
    if event.envelope.event_date is None:
        context.notes.append("The body has no event_date; the time it was received is used.")
    if callback_event.requested_test:
        context.notes.append("A test event requested with `vibes_callbacks test`; not applied.")
        outcome = HandlerResult(status=CallbackStatus.IGNORED)
    else:
        outcome = handle(event, context)
    callback_event.status = outcome.status
    callback_event.person = outcome.person
    callback_event.subscription_list = outcome.subscription_list
    callback_event.notes = context.notes
    callback_event.save(update_fields=PROCESSING_FIELDS)
    if outcome.person is not None and person_is_erased(outcome.person):
        callback_events_of_erased_scrub([callback_event.pk])
    return callback_event.status
