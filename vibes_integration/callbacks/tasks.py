"""The tasks that process stored callback events (run by ``db_worker``), and their scheduling.

This is the only module of ``callbacks`` that enqueues tasks. The row is the record: an
event is stored, or a failure is recorded with its ``next_attempt_at``; a task is only a
nudge to process it.

The request schedules processing after the event's insert committed (``schedule_processing``):
rather than one task per event (a second insert in every request), a task that processes
every waiting event is enqueued at most once per ``PROCESSING_WINDOW`` in each process, and
each such run schedules one ``tail`` run a window later for the events stored while it was
looking. A failed attempt's retry is enqueued in the transaction that records the failure
(``signals.retry_due``); a replay gets a task of its own; callback registration jobs get
a run when one is queued or retried (``signals.registration_jobs_due``).
"""

from __future__ import annotations

import datetime
import logging
import time

from django.core.cache import cache
from django.db import DatabaseError
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task

from vibes_integration.callbacks.processing import (
    callback_event_process,
    callback_events_process_received,
)
from vibes_integration.callbacks.registration_jobs import process_registration_jobs
from vibes_integration.callbacks.signals import registration_jobs_due, retry_due

logger = logging.getLogger(__name__)

PROCESSING_WINDOW = datetime.timedelta(seconds=1)
_SCHEDULED_KEY = "vibes_callbacks:processing-scheduled"
_scheduled_until = 0.0  # time.monotonic() until which this process needs not look again


@task()
def process_received_callback_events(tail: bool = False) -> int:
    """Process every event still waiting, oldest first; returns how many were processed.

    The request enqueues this at most once per short window (see ``schedule_processing``);
    each run schedules one later ``tail`` run that picks up events stored during the window
    after this run looked.
    """
    forget_scheduled()
    if not tail:
        process_received_callback_events.using(
            run_after=timezone.now() + PROCESSING_WINDOW
        ).enqueue(tail=True)
    return callback_events_process_received()


@task()
def process_callback_event(callback_event_id: int, replay: bool = False, attempt: int = 1) -> str:
    """Process one event (a retry with backoff, or a replay); returns the status it ends in.

    A failure is recorded on the event and retried by a new task scheduled with backoff,
    so this task itself only fails when even that record cannot be written.
    """
    return callback_event_process(callback_event_id, replay=replay, attempt=attempt)


def schedule_processing() -> None:
    """Make sure a processing run starts after this moment (see the module docstring).

    This process remembers when it last scheduled one, and so does the cache (with a
    shared cache, ``CACHE_URL``, for all processes together): within a window, nothing
    more is needed. A cache that cannot be reached only means one more run is scheduled.
    """
    global _scheduled_until
    now = time.monotonic()
    if now < _scheduled_until:
        return
    try:
        if not cache.add(_SCHEDULED_KEY, True, timeout=PROCESSING_WINDOW.total_seconds()):
            _scheduled_until = now + PROCESSING_WINDOW.total_seconds() / 2
            return
    except Exception:  # any cache failure: schedule anyway
        logger.warning("The cache is unavailable; scheduling callback processing anyway.")
    try:
        process_received_callback_events.enqueue()
    except DatabaseError:
        forget_scheduled()
        raise
    _scheduled_until = now + PROCESSING_WINDOW.total_seconds()


def forget_scheduled() -> None:
    """A processing run has started: the next stored event schedules a new one."""
    global _scheduled_until
    _scheduled_until = 0.0
    try:
        cache.delete(_SCHEDULED_KEY)
    except Exception:  # the window expires by itself
        logger.warning("The cache is unavailable; the processing window expires by itself.")


def schedule_replay(callback_event_id: int) -> None:
    """A task that processes the event again, whatever its status."""
    process_callback_event.enqueue(callback_event_id, replay=True)


@receiver(retry_due, dispatch_uid="vibes_callbacks_retry_due")
def schedule_retry(
    *, callback_event_id: int, attempt: int, run_after: datetime.datetime, **kwargs
) -> None:
    """Enqueue a failed event's next attempt, in the transaction that recorded the failure."""
    process_callback_event.using(run_after=run_after).enqueue(callback_event_id, attempt=attempt)


def schedule_registration_jobs(*, run_after: datetime.datetime | None = None) -> None:
    """Enqueue a run of the due registration jobs (now, or at ``run_after`` for a retry)."""
    if run_after is not None and run_after > timezone.now():
        process_registration_jobs.using(run_after=run_after).enqueue()
    else:
        process_registration_jobs.enqueue()


@receiver(registration_jobs_due, dispatch_uid="vibes_callbacks_registration_jobs_due")
def _registration_jobs_due(*, run_after: datetime.datetime | None, **kwargs) -> None:
    schedule_registration_jobs(run_after=run_after)
