"""The task worker: django-tasks-db's worker, made to live through database outages.

django-tasks-db's own ``db_worker`` lets an ``OperationalError`` out of its claiming
transaction end the process, so one database restart stops every callback and every call
to Vibes until someone notices. ``ResilientWorker`` runs the same claim-and-run cycle (the
library's queries, locking and task running), and around each round it writes the
process's heartbeat and hands any database error to ``Outage``: log it, close the broken
connections, wait a bounded while, try again, never exit. A task whose end could not be
recorded because the database went away mid-task is recorded as failed once the database
answers again, so it does not stay "running" for ever.
"""

from __future__ import annotations

import logging
import random
import time

from django.db import DatabaseError, OperationalError, close_old_connections
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from prefcenter.workers.heartbeat import Heartbeat
from prefcenter.workers.models import WorkerKind
from prefcenter.workers.outage import Outage

logger = logging.getLogger(__name__)


class DatabaseWentAway(Exception):
    """Recorded on a task whose outcome was lost because the database went away."""


class ResilientWorker(Worker):
    """A django-tasks-db ``Worker`` that never exits on a database error."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.heartbeat = Heartbeat(WorkerKind.TASK_WORKER)
        self.outage = Outage(f"Task worker {self.worker_id}")
        self._unrecorded: tuple[DBTaskResult, BaseException] | None = None

    def run(self) -> None:
        logger.info(
            "Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names)
        )
        if self.startup_delay and self.interval:
            time.sleep(random.random())
        try:
            while self.running:
                try:
                    found = self.run_round()
                except DatabaseError as exc:
                    self.outage.failed(exc)
                    continue
                self.outage.succeeded()
                if self.batch and not found:
                    logger.info("No more tasks to run for worker_id=%s.", self.worker_id)
                    return
                if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                    logger.info("Ran %d tasks on worker_id=%s.", self._run_tasks, self.worker_id)
                    return
                if self.running and not found:
                    time.sleep(self.interval)
        finally:
            self.heartbeat.stop()

    def run_round(self) -> bool:
        """Beat, settle a task the last outage left unrecorded, run one task; True if one ran."""
        # As for a request: drop connections past CONN_MAX_AGE or found broken.
        close_old_connections()
        self.heartbeat.beat()
        self._record_unrecorded()
        task_result = self.claim()
        if task_result is None:
            return False
        self.run_task(task_result)
        close_old_connections()
        return True

    def claim(self) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result
        except OperationalError as exc:
            # SQLite: another process holds the write lock past the busy timeout. Nothing
            # is broken; try again after the usual interval, as django-tasks-db does.
            if is_locked_database_exception(exc):
                logger.info("The database is locked; looking for tasks again shortly.")
                return None
            raise

    def run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            super().run_task(db_task_result)
        except DatabaseError as exc:
            # The task ran (or failed) but its end could not be written.
            self._unrecorded = (db_task_result, exc)
            raise

    def _record_unrecorded(self) -> None:
        if self._unrecorded is None:
            return
        db_task_result, exc = self._unrecorded
        error = DatabaseWentAway(
            f"The database went away while this task ran ({type(exc).__name__}); "
            "its outcome is unknown. Its work is picked up again by the next run."
        )
        db_task_result.set_failed(error)
        self._unrecorded = None
        logger.warning("Task id=%s recorded as failed: the database went away.", db_task_result.id)
