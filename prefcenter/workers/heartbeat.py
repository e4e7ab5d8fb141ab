"""Heartbeats: each background process says it is alive, at a bounded rate.

A process writes its row when it starts and then at most once per ``heartbeat_interval()``
(a quarter of ``PREFCENTER_WORKER_STALE_SECONDS``, at most 10 s), from its main loop, so a
process that hangs stops beating just like one that died. A write that fails (the database
is away) raises to the caller, whose outage handling retries; the next successful write
brings the row up to date.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import socket
import time

from django.db import DatabaseError
from django.utils import timezone

from prefcenter.conf import setting
from prefcenter.workers.models import WorkerHeartbeat, WorkerKind

logger = logging.getLogger(__name__)

# Rows of processes gone this long are deleted when a process starts.
KEEP_STOPPED = datetime.timedelta(days=7)


def stale_after() -> datetime.timedelta:
    """How long a process may stay silent before it counts as gone."""
    return datetime.timedelta(seconds=setting("PREFCENTER_WORKER_STALE_SECONDS"))


def heartbeat_interval() -> float:
    """Seconds between two writes: several beats fit in the stale period."""
    return max(0.5, min(10.0, setting("PREFCENTER_WORKER_STALE_SECONDS") / 4))


class Heartbeat:
    """The heartbeat of this process, of one ``kind``."""

    def __init__(self, kind: WorkerKind) -> None:
        self.kind = kind
        self.hostname = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.started_at = timezone.now()
        self.row_id: int | None = None
        self._next_write = 0.0

    def beat(self, *, force: bool = False) -> bool:
        """Write ``last_seen_at`` if the interval has passed (or ``force``); True if written."""
        now = time.monotonic()
        if not force and now < self._next_write:
            return False
        seen = timezone.now()
        if self.row_id is None or not (
            WorkerHeartbeat.objects.filter(pk=self.row_id).update(last_seen_at=seen)
        ):
            self._create(seen)
        self._next_write = now + heartbeat_interval()
        return True

    def _create(self, seen: datetime.datetime) -> None:
        WorkerHeartbeat.objects.filter(
            last_seen_at__lt=seen - max(KEEP_STOPPED, stale_after())
        ).delete()
        row = WorkerHeartbeat.objects.create(
            hostname=self.hostname,
            pid=self.pid,
            kind=self.kind,
            started_at=self.started_at,
            last_seen_at=seen,
        )
        self.row_id = row.pk

    def stop(self) -> None:
        """Best effort on a clean stop: a process that cannot say so simply goes stale."""
        if self.row_id is None:
            return
        with contextlib.suppress(DatabaseError):
            now = timezone.now()
            WorkerHeartbeat.objects.filter(pk=self.row_id).update(last_seen_at=now, stopped_at=now)
