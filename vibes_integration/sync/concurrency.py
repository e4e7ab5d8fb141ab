"""Several calls to Vibes in flight from one worker, paced by the shared rate limiter.

One call at a time cannot reach 100 calls per second once Vibes takes more than 10 ms
to answer, so a worker keeps ``VIBES_SYNC_CONCURRENCY`` calls in flight on threads. The
threads do HTTP only. The thread that owns the batch does everything that touches the
database: it reserves rate-limit slots for the threads waiting at the gate (several at a
time, one short transaction), lets each thread go exactly when its slot starts, and
records results as they come back.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from vibes_integration.client import VibesClient
from vibes_integration.conf import get_setting
from vibes_integration.errors import TransientError
from vibes_integration.sync.ratelimit import RateLimiter
from vibes_integration.sync.sending import mark_released

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
        base_url=get_setting("VIBES_API_URL"),
        company_key=get_setting("VIBES_COMPANY_KEY"),
        username=get_setting("VIBES_USERNAME"),
        password=get_setting("VIBES_PASSWORD"),
        connect_timeout=get_setting("VIBES_CONNECT_TIMEOUT"),
        read_timeout=get_setting("VIBES_READ_TIMEOUT"),
        throttle=throttle,
        session=sync_session(pool_size),
    )


class RateGate:
    """Sending threads wait at the gate; the owning thread opens it slot by slot."""

    def __init__(self, limiter: RateLimiter, *, max_reserve: int = 8, wait_timeout: float = 300):
        self.limiter = limiter
        self.max_reserve = max(1, max_reserve)
        self.wait_timeout = wait_timeout
        self._tickets: queue.Queue[threading.Event] = queue.Queue()
        self._closed = threading.Event()

    def wait(self) -> None:
        """Block this sending thread until its slot starts (the client's throttle)."""
        if self._closed.is_set():
            raise TransientError("the batch was stopped before this call")
        ticket = threading.Event()
        self._tickets.put(ticket)
        if not ticket.wait(self.wait_timeout) or self._closed.is_set():
            raise TransientError("the batch was stopped before this call")
        mark_released()

    def serve(self, timeout: float) -> int:
        """Let through the threads waiting now, each at its own slot; answers how many."""
        try:
            tickets = [self._tickets.get(timeout=timeout)]
        except queue.Empty:
            return 0
        while len(tickets) < self.max_reserve:
            try:
                tickets.append(self._tickets.get_nowait())
            except queue.Empty:
                break
        for ticket, slot in zip(tickets, self.limiter.reserve(len(tickets)), strict=True):
            self.limiter.wait_until(slot)
            ticket.set()
        return len(tickets)

    def close(self) -> None:
        self._closed.set()
        while True:
            try:
                self._tickets.get_nowait().set()
            except queue.Empty:
                return


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
        flush_size: int = 25,
        flush_seconds: float = 0.25,
    ) -> None:
        """Hand results to ``on_results`` (on this thread) in small groups as they arrive.

        A ``work`` that raises hands its exception over as the result.
        """
        gate = RateGate(self.limiter, max_reserve=min(self.concurrency, 8))
        client = build_client(throttle=gate.wait, pool_size=self.concurrency)
        ready: list[tuple[Item, Any]] = []
        last_flush = time.monotonic()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="vibes-sync") as pool:
            futures: dict[Future, Item] = {
                pool.submit(_guarded, work, client, item): item for item in items
            }
            try:
                while futures:
                    gate.serve(timeout=0.005)
                    for future in [f for f in futures if f.done()]:
                        ready.append((futures.pop(future), future.result()))
                    due = time.monotonic() - last_flush >= flush_seconds
                    if ready and (len(ready) >= flush_size or due or not futures):
                        on_results(ready)
                        ready = []
                        last_flush = time.monotonic()
            finally:
                gate.close()


def _guarded(work: Callable[[VibesClient, Any], Any], client: VibesClient, item: Any) -> Any:
    try:
        return work(client, item)
    except Exception as exc:
        logger.exception("A call to Vibes failed unexpectedly")
        return exc
