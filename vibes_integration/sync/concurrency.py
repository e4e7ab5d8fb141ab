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
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from django.db import connection, connections
from requests.adapters import HTTPAdapter

from prefcenter.conf import setting
from vibes_integration.client import VibesClient
from vibes_integration.errors import TransientError
from vibes_integration.sync.calls import mark_released
from vibes_integration.sync.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

_sessions: dict[tuple[int, int], requests.Session] = {}
_sessions_lock = threading.Lock()


def sync_session(pool_size: int) -> requests.Session:
    """A process-wide session whose connection pool fits ``pool_size`` threads."""
    key = (os.getpid(), pool_size)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, pool_size))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[key] = session
        return session


def build_client(*, throttle: Callable[[], None] | None, pool_size: int = 10) -> VibesClient:
    return VibesClient(
        base_url=setting("VIBES_API_URL"),
        company_key=setting("VIBES_COMPANY_KEY"),
        username=setting("VIBES_USERNAME"),
        password=setting("VIBES_PASSWORD"),
        connect_timeout=setting("VIBES_CONNECT_TIMEOUT"),
        read_timeout=setting("VIBES_READ_TIMEOUT"),
        throttle=throttle,
        session=sync_session(pool_size),
    )


class RateGate:
    """Sending threads wait at the gate for a slot; the gate's refiller reserves the slots.

    A thread asks for a slot, gets the start time of one reserved for it, and sleeps until
    then on its own, so the owning thread never sleeps through the schedule and can record
    results in between. Slots are reserved only for threads that are waiting (none is
    wasted ahead of need), a few per transaction. A thread that gets its slot, or wakes for it,
    more than ``max_lateness`` seconds late (the machine was busy) leaves it unused and
    takes the next: late calls must not bunch up and push a second over the limit. At a
    pace of ``r`` calls per second no window of ``w`` seconds then holds more than
    ``r * (w + max_lateness)`` of our calls: 95 per 0.95 s at 97/s with 30 ms.
    """

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        max_reserve: int = 8,
        max_lateness: float = 0.03,
        wait_timeout: float = 300,
    ) -> None:
        self.limiter = limiter
        self.max_reserve = max(1, max_reserve)
        self.max_lateness = max_lateness
        self.wait_timeout = wait_timeout
        self._slots: deque[float] = deque()
        self._waiting = 0
        self._closed = False
        self._changed = threading.Condition()
        #: Slots that went unused: taken too late (woken late) or never taken (passed).
        self.woke_late = 0
        self.passed = 0

    def wait(self) -> None:
        """Block this sending thread until its slot starts (the client's throttle)."""
        deadline = time.monotonic() + self.wait_timeout
        while True:
            with self._changed:
                self._waiting += 1
                self._changed.notify_all()
                try:
                    slot = self._take_slot(deadline)
                finally:
                    self._waiting -= 1
            self.limiter.wait_until(slot)
            # Woken late (the machine was busy): calling now could bunch with the calls of
            # the next slots, so this slot goes unused and the thread asks for another.
            if self.limiter.clock() - slot <= self.max_lateness:
                break
            self.woke_late += 1
        mark_released()

    def _take_slot(self, deadline: float) -> float:
        while True:
            if self._closed:
                raise TransientError("the batch was stopped before this call")
            self._drop_passed_slots()
            if self._slots:
                return self._slots.popleft()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransientError("no rate-limit slot was given in time")
            self._changed.wait(min(remaining, 0.05))

    def _drop_passed_slots(self) -> None:
        """Forget slots too far in the past to be used (call with ``_changed`` held)."""
        now = self.limiter.clock()
        while self._slots and self._slots[0] < now - self.max_lateness:
            self._slots.popleft()
            self.passed += 1

    def refill(self) -> int:
        """Reserve slots for the threads waiting without one; answers how many."""
        with self._changed:
            self._drop_passed_slots()
            wanted = min(self._waiting - len(self._slots), self.max_reserve)
        if wanted <= 0:
            return 0
        slots = self.limiter.reserve(wanted)
        with self._changed:
            self._slots.extend(slots)
            self._changed.notify_all()
        return wanted

    def wait_for_requests(self, timeout: float) -> None:
        """Sleep until a thread asks for a slot, or ``timeout`` passes."""
        with self._changed:
            if self._waiting <= len(self._slots) and not self._closed:
                self._changed.wait(timeout)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def refill_on_own_thread(self) -> threading.Thread:
        """Reserve slots from a thread of its own until the gate closes.

        The owning thread then records results without holding up the schedule: a slow
        commit of results no longer leaves the sending threads without slots. The thread
        uses its own database connection (the database limiter), closed when it ends; if
        reserving fails, the gate closes so that no sending thread waits for a slot in vain.
        """
        thread = threading.Thread(target=self._refill_loop, name="vibes-sync-gate", daemon=True)
        thread.start()
        return thread

    def _refill_loop(self) -> None:
        try:
            while not self._closed:
                if not self.refill():
                    self.wait_for_requests(0.02)
        except Exception:
            logger.exception("Reserving rate-limit slots failed; this batch stops sending")
            self.close()
        finally:
            connections.close_all()  # this thread's own connections only


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
        """
        gate = RateGate(self.limiter, max_reserve=min(self.concurrency, 8))
        client = build_client(throttle=gate.wait, pool_size=self.concurrency)
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
