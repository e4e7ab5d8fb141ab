"""``python manage.py prefcenter_worker``: the task worker, for production and ``make run``.

It takes the options of django-tasks-db's ``db_worker`` (``--queue-name``, ``--interval``,
``--worker-id``, ...) and runs ``ResilientWorker``: the same work, but a database outage is
waited out (logged, with bounded backoff) instead of ending the process, and the process
writes a heartbeat that ``GET /healthz/workers`` and the sync dashboard read.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import TASKS_LOGGER
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from prefcenter.workers.worker import ResilientWorker


class Command(DbWorkerCommand):
    help = (
        "Run the task worker (callbacks, sync to Vibes). Like django-tasks-db's db_worker, "
        "but it waits out database outages instead of exiting, and writes a heartbeat."
    )

    def configure_logging(self, verbosity: int) -> None:
        """db_worker sets its loggers to INFO at start; at the default verbosity the levels
        ``LOGGING`` names for them win, so that ``PREFCENTER_LOG_LEVELS`` (``make run``'s
        quiet default) holds in the worker too. ``-v 0`` and ``-v 2`` still mean what
        they say."""
        super().configure_logging(verbosity)
        if verbosity != 1:
            return
        configured = settings.LOGGING.get("loggers", {})
        for name in (TASKS_LOGGER, "django_tasks_db"):
            level = configured.get(name, {}).get("level")
            if level:
                logging.getLogger(name).setLevel(level)

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options,
    ) -> None:
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
