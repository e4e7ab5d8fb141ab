"""The background task that sends due deliveries, and how it gets scheduled.

The task is a nudge, not the record of the work: the pending ``WebhookDelivery`` rows
say what to send, and the sweep schedules a task again if one is lost. ``nudge`` adds a
task only when none is already waiting to start.
"""

from __future__ import annotations

import datetime
import os
import socket
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from prefcenter.webhooks import delivery


@task()
def deliver_webhooks() -> dict[str, Any]:
    """Send due deliveries for a few seconds, then schedule the next run if work is left."""
    summary = delivery.deliver_due(worker=f"{socket.gethostname()}:{os.getpid()}")
    if summary.next_due_at is not None:
        nudge(run_after=summary.next_due_at)
    return summary.as_dict()


def nudge(*, run_after: datetime.datetime | None = None) -> None:
    """Make sure a delivery task will run now (or at ``run_after``)."""
    backend = deliver_webhooks.get_backend()
    if isinstance(backend, DatabaseBackend):
        moment = run_after or timezone.now()
        waiting = DBTaskResult.objects.filter(
            task_path=deliver_webhooks.module_path, status="READY", backend_name=backend.alias
        ).filter(Q(run_after=get_date_max()) | Q(run_after__lte=moment))
        if waiting.exists():
            return
    if run_after is not None and run_after > timezone.now():
        deliver_webhooks.using(run_after=run_after).enqueue()
    else:
        deliver_webhooks.enqueue()


def _nudge_now() -> None:
    nudge()


def pending_on_commit(connection, hook) -> bool:
    """Whether ``hook`` waits for the current transaction's commit. Django drops the hooks
    of a transaction (or savepoint) that rolls back, so this also says that nothing
    registered with the hook was undone."""
    return connection.in_atomic_block and any(
        entry[1] is hook for entry in getattr(connection, "run_on_commit", [])
    )


def nudge_on_commit() -> None:
    """Nudge once the caller's transaction commits (once per transaction, however many
    events it published): the task then sees every delivery it wrote."""
    if not pending_on_commit(transaction.get_connection(), _nudge_now):
        transaction.on_commit(_nudge_now)
