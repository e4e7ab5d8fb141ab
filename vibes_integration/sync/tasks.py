"""The background task that sends the outbox to Vibes, and how it gets scheduled.

``process_operations`` claims due operations batch after batch for a few seconds, sends
them and records the outcomes. It is a nudge, not the record of the work: if the task is
lost, the outbox row still says what to do and the sweep schedules a task again.

Scheduling avoids a pile of identical tasks: ``ensure_processing`` enqueues a task only
when no task is already waiting to start, and it locks the waiting one (skipping a
locked one) until the caller's transaction commits, so that a worker cannot start that
task before the new outbox row is visible to it.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
from collections.abc import Collection
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from vibes_integration.sync.claims import has_due, next_wakeup
from vibes_integration.sync.engine import process_due

logger = logging.getLogger(__name__)


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@task(takes_context=True)
def process_operations(context) -> dict[str, Any]:
    """Send due operations to Vibes for a few seconds, then schedule the rest.

    While it sends, a backlog larger than one batch gets a task of its own, so that
    another worker starts on it meanwhile.
    """
    worker_ids = getattr(context.task_result, "worker_ids", None) or []
    worker = f"{default_worker_name()}/{worker_ids[-1][:12]}" if worker_ids else None
    summary = process_due(worker=worker or default_worker_name(), on_backlog=ensure_processing)
    schedule_remaining()
    return summary.as_dict()


def schedule_remaining(person_ids: Collection[int] | None = None) -> None:
    """Leave a task for what is due now, and one for when the next retry falls due."""
    now = timezone.now()
    if has_due(person_ids, now=now):
        ensure_processing()
    wakeup = next_wakeup(person_ids, now=now)
    if wakeup is not None:
        ensure_processing(run_after=wakeup)


def _uses_database_backend() -> bool:
    return isinstance(process_operations.get_backend(), DatabaseBackend)


def ensure_processing(*, run_after: datetime.datetime | None = None) -> None:
    """Make sure a task will process the outbox now (or at ``run_after``)."""
    if _uses_database_backend():
        moment = run_after or timezone.now()
        waiting = DBTaskResult.objects.filter(
            task_path=process_operations.module_path,
            status="READY",
            backend_name=process_operations.get_backend().alias,
        ).filter(Q(run_after=get_date_max()) | Q(run_after__lte=moment))
        with transaction.atomic():
            if waiting.select_for_update(skip_locked=True).values_list("pk", flat=True)[:1]:
                return
            _enqueue(run_after)
        return
    _enqueue(run_after)


def _enqueue(run_after: datetime.datetime | None) -> None:
    if run_after is not None and run_after > timezone.now():
        process_operations.using(run_after=run_after).enqueue()
    else:
        process_operations.enqueue()
