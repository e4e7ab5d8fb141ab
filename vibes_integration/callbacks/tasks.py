"""The tasks that process stored callback events (run by ``db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def process_received_callback_events(tail: bool = False) -> int:
    """Process every event still waiting, oldest first; returns how many were processed.

    The request enqueues this at most once per short window (see
    ``services.schedule_processing``); each run schedules one later ``tail`` run that
    picks up events stored during the window after this run looked.
    """
    from vibes_integration.callbacks.processing import callback_events_process_received

    return callback_events_process_received(tail=tail)


@task()
def process_callback_event(callback_event_id: int, replay: bool = False, attempt: int = 1) -> str:
    """Process one event (a retry with backoff, or a replay); returns the status it ends in.

    A failure is recorded on the event and retried by a new task scheduled with backoff,
    so this task itself only fails when even that record cannot be written.
    """
    from vibes_integration.callbacks.processing import callback_event_process

    return callback_event_process(callback_event_id, replay=replay, attempt=attempt)
