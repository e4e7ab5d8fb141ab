"""Living through a database outage: close what broke, wait a bounded while, try again.

A long-running process cannot trust a connection that failed once: a server restart, a
cut network or a failover leaves it broken, and a SQLite file held by an exclusive lock
answers "database is locked" until the holder lets go. ``Outage`` is the one place where
the task worker and the sweep handle that: every failed attempt is logged with its error
class and the wait before the next one, the waits double from ``FIRST_DELAY`` up to
``MAX_DELAY`` (never longer), every connection of the process is closed so that the next
attempt opens a fresh one, and the first success after a failure is logged too.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

FIRST_DELAY = 0.5
MAX_DELAY = 10.0


def close_all_connections() -> None:
    """Close every connection of this process; a broken one may fail to close, which is fine."""
    for connection in connections.all(initialized_only=True):
        # Django forgets the connection even when closing it fails (the server dropped it).
        with contextlib.suppress(DatabaseError):
            connection.close()


class Outage:
    """The retry state of one process's loop (``what`` names the process in the log)."""

    def __init__(self, what: str, *, sleep: Callable[[float], object] = time.sleep) -> None:
        self.what = what
        self.sleep = sleep
        self.failures = 0
        self.started: float | None = None

    def next_delay(self) -> float:
        return min(MAX_DELAY, FIRST_DELAY * 2 ** max(0, self.failures - 1))

    def failed(self, exc: BaseException) -> float:
        """Record a failed attempt, close the connections, wait; returns the wait."""
        self.failures += 1
        if self.started is None:
            self.started = time.monotonic()
        delay = self.next_delay()
        # The class and message: a connection error's message names the host, never the password.
        logger.warning(
            "%s: the database is unavailable (%s: %s); attempt %d failed, retrying in %.1f s.",
            self.what,
            type(exc).__name__,
            _first_line(exc),
            self.failures,
            delay,
        )
        close_all_connections()
        self.sleep(delay)
        return delay

    def succeeded(self) -> None:
        """Call after a successful round: logs the end of an outage once."""
        if self.failures:
            logger.warning(
                "%s: the database answers again after %d failed attempts (%.0f s); resuming.",
                self.what,
                self.failures,
                time.monotonic() - (self.started or time.monotonic()),
            )
        self.failures = 0
        self.started = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""
