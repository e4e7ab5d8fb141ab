"""The task that processes one stored callback event (run by ``db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def process_callback_event(callback_event_id: int, replay: bool = False, attempt: int = 1) -> str:
    """Parse and apply one callback event; returns the status it ends in.

    A failure is recorded on the event and retried by a new task scheduled with backoff,
    so this task itself only fails when even that record cannot be written.
    """
    from vibes_integration.callbacks.processing import callback_event_process

    return callback_event_process(callback_event_id, replay=replay, attempt=attempt)
