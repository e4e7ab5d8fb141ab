"""Several calls to Vibes in flight from one worker, paced by the shared rate limiter.

One call at a time cannot reach 100 calls per second once Vibes takes more than 10 ms
to answer, so a worker keeps ``VIBES_SYNC_CONCURRENCY`` calls in flight on threads. The
threads do HTTP only. The thread that owns the batch does everything that touches the
database: it records results as they come back, while a thread of the gate's own (with its
own connection) reserves rate-limit slots for the threads waiting at the gate, several at a
time in one short transaction; each thread sleeps until its own slot starts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import connection

from vibes_integration.client import VibesClient
from vibes_integration.sync.ratelimit import RateGate, RateLimiter

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class CallPool:
    """Runs ``work(client, item)`` for many items on threads, through one rate gate."""

    def __init__(self, *, limiter: RateLimiter, concurrency: int) -> None:
        self.limiter = limiter
        self.concurrency = max(1, concurrency)

    def run(
        self,
        items: Iterable[Item],
        work: Callable[[VibesClient, Item], Result],
        on_results: Callable[[list[tuple[Item, Result]]], None],
        *,
        more: Callable[[], list[Item]] | None = None,
        record_every: float = 0.05,
        group_size: int = 16,
    ) -> None:
        """Hand results to ``on_results`` (on this thread) in groups as they arrive (one
        transaction per group, not per call), reserving slots for waiting threads between
        groups so that none stands idle. When few items are left in flight, ``more()``
        is asked for the next ones (an empty list: there are no more), so that the calls
        flow on without a pause between batches.

        A ``work`` that raises hands its exception over as the result.

        Over 60 lines on purpose: one loop whose gate, thread pool and futures every step
        shares, and whose ``finally`` must close all three whatever stops it (Ctrl-C
        included); cut into methods, each would take and hand back the same four objects.
        """
        gate = RateGate(self.limiter, max_reserve=min(self.concurrency, 8))
        client = VibesClient.from_settings(throttle=gate.wait, pool_size=self.concurrency)
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="vibes-sync")
        futures: dict[Future, Item] = {}
        # Inside a caller's transaction (a test, a command run in one) a second connection
        # would not see, or would wait for, that transaction's rows: reserve on this thread.
        refiller = None if connection.in_atomic_block else gate.refill_on_own_thread()
        try:
            for item in items:
                futures[pool.submit(_guarded, work, client, item)] = item
            last_recorded = time.monotonic()
            while futures:
                if more is not None and len(futures) <= 2 * self.concurrency:
                    added = more()
                    if not added:
                        more = None
                    for item in added:
                        futures[pool.submit(_guarded, work, client, item)] = item
                if refiller is None:
                    gate.refill()
                finished = [f for f in futures if f.done()]
                due = time.monotonic() - last_recorded >= record_every
                if finished and (
                    due or len(finished) >= group_size or len(finished) == len(futures)
                ):
                    for start in range(0, len(finished), group_size):
                        group = finished[start : start + group_size]
                        on_results([(futures.pop(f), f.result()) for f in group])
                        if refiller is None:
                            gate.refill()
                    last_recorded = time.monotonic()
                elif refiller is None:
                    gate.wait_for_requests(0.002)
                else:
                    time.sleep(0.002)
        finally:
            # Whatever stops this loop (Ctrl-C included) must not leave a thread waiting
            # at the gate: close it, drop what has not started, let calls in flight end.
            gate.close()
            pool.shutdown(wait=True, cancel_futures=True)
            if refiller is not None:
                refiller.join()
            _log_unused_slots(gate)


def _log_unused_slots(gate: RateGate) -> None:
    if gate.woke_late or gate.passed:
        logger.info(
            "Rate-limit slots left unused by this batch (a busy machine): %d taken "
            "too late, %d never taken",
            gate.woke_late,
            gate.passed,
        )


def _guarded(work: Callable[[VibesClient, Any], Any], client: VibesClient, item: Any) -> Any:
    try:
        return work(client, item)
    except Exception as exc:
        logger.exception("A call to Vibes failed unexpectedly")
        return exc
