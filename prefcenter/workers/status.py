"""Are the background processes there, and is work waiting for them?

Read by ``GET /healthz/workers`` and the sync dashboard. Waiting work is what only a
worker moves: callbacks received but not applied yet, outbox operations due now, and
tasks ready to run. A task worker is what applies callbacks and sends operations, so
"unhealthy" means work waits and no task worker has been seen within
``PREFCENTER_WORKER_STALE_SECONDS``; a missing sweep is reported beside it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Case, Count, F, Max, Min, When
from django.utils import timezone

from prefcenter.workers.heartbeat import stale_after
from prefcenter.workers.models import WorkerHeartbeat, WorkerKind


@dataclass(frozen=True)
class Backlog:
    """Work waiting for a worker, and since when the oldest piece has waited."""

    callbacks: int
    operations: int
    tasks: int
    oldest_at: datetime.datetime | None

    @property
    def total(self) -> int:
        return self.callbacks + self.operations + self.tasks

    @property
    def oldest_age(self) -> datetime.timedelta | None:
        return (
            None
            if self.oldest_at is None
            else max(datetime.timedelta(0), timezone.now() - self.oldest_at)
        )


@dataclass(frozen=True)
class WorkersStatus:
    task_workers: int
    sweeps: int
    last_seen_at: datetime.datetime | None
    stale_after: datetime.timedelta
    backlog: Backlog

    @property
    def healthy(self) -> bool:
        return self.task_workers > 0 or self.backlog.total == 0

    @property
    def sweep_missing(self) -> bool:
        return self.sweeps == 0

    def as_dict(self) -> dict:
        oldest_age = self.backlog.oldest_age
        return {
            "status": "ok" if self.healthy else "unavailable",
            "workers": {
                "task_workers_seen": self.task_workers,
                "sweeps_seen": self.sweeps,
                "last_seen": self.last_seen_at.isoformat() if self.last_seen_at else None,
                "stale_after_seconds": self.stale_after.total_seconds(),
            },
            "backlog": {
                "callbacks_received": self.backlog.callbacks,
                "operations_due": self.backlog.operations,
                "tasks_ready": self.backlog.tasks,
                "total": self.backlog.total,
                "oldest_waiting": self.backlog.oldest_at.isoformat()
                if self.backlog.oldest_at
                else None,
                "oldest_waiting_seconds": round(oldest_age.total_seconds(), 1)
                if oldest_age is not None
                else None,
            },
        }


def workers_status() -> WorkersStatus:
    now = timezone.now()
    window = stale_after()
    alive = WorkerHeartbeat.objects.filter(last_seen_at__gte=now - window, stopped_at=None)
    counts = {row["kind"]: row["n"] for row in alive.values("kind").annotate(n=Count("id"))}
    last_seen = WorkerHeartbeat.objects.aggregate(last=Max("last_seen_at"))["last"]
    return WorkersStatus(
        task_workers=counts.get(WorkerKind.TASK_WORKER, 0),
        sweeps=counts.get(WorkerKind.SWEEP, 0),
        last_seen_at=last_seen,
        stale_after=window,
        backlog=backlog(now),
    )


def backlog(now: datetime.datetime | None = None) -> Backlog:
    now = now or timezone.now()
    parts = [_callbacks(), _operations(now), _tasks()]
    oldest = [at for _count, at in parts if at is not None]
    return Backlog(
        callbacks=parts[0][0],
        operations=parts[1][0],
        tasks=parts[2][0],
        oldest_at=min(oldest) if oldest else None,
    )


def _callbacks() -> tuple[int, datetime.datetime | None]:
    if not apps.is_installed("vibes_integration.callbacks"):
        return 0, None
    from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus

    row = CallbackEvent.objects.filter(status=CallbackStatus.RECEIVED).aggregate(
        n=Count("id"), oldest=Min("received_at")
    )
    return row["n"], row["oldest"]


def _operations(now: datetime.datetime) -> tuple[int, datetime.datetime | None]:
    if not apps.is_installed("vibes_integration.sync"):
        return 0, None
    from vibes_integration.sync.choices import OperationStatus
    from vibes_integration.sync.claims import due_operations

    # Due since: the planned attempt, or the end of the lease of a worker that vanished.
    row = due_operations(now).aggregate(
        n=Count("id"),
        oldest=Min(
            Case(
                When(status=OperationStatus.RUNNING, then=F("lease_expires_at")),
                default=F("next_attempt_at"),
            )
        ),
    )
    return row["n"], row["oldest"]


def _tasks() -> tuple[int, datetime.datetime | None]:
    if not apps.is_installed("django_tasks_db"):
        return 0, None
    from django_tasks_db.models import DBTaskResult, get_date_max

    # Ready since: when it was enqueued, or the moment it was scheduled for.
    row = DBTaskResult.objects.ready().aggregate(
        n=Count("id"),
        oldest=Min(
            Case(
                When(run_after=get_date_max(), then=F("enqueued_at")),
                default=F("run_after"),
            )
        ),
    )
    return row["n"], row["oldest"]
