"""Callback delivery, at least once, on background threads.

Like Vibes: each event goes to its registration's URL with the registered method and
content type; a 2xx answer ends it, a 4xx answer ends it as a permanent failure, and 3xx,
5xx, timeouts and connection errors are retried with a rising ``delivery_attempt`` after
a growing pause, until ``max_attempts``. Fault knobs add duplicates, shuffled order,
delays and lost attempts. Every attempt is written to the delivery log.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from typing import TYPE_CHECKING, Any

import requests

from vibes_integration.sandbox import clock

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox

USER_AGENT = "prefcenter-vibes-sandbox/1"


class DeliveryQueue:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._heap: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = itertools.count()
        self._log_ids = itertools.count(1)
        self._cond = threading.Condition()
        self._in_flight = 0
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._generation = 0
        self.log: list[dict[str, Any]] = []

    # -- queueing -------------------------------------------------------------------------

    def enqueue(self, registration: dict[str, Any], body: dict[str, Any]) -> None:
        faults = self.sandbox.faults
        delay = faults["delay_ms"] / 1000
        if faults["shuffle"]:
            delay += self.sandbox.rng.uniform(0, faults["shuffle_window_ms"] / 1000)
        destination = registration["destination"]
        job = {
            "event_id": body["event_id"],
            "callback_id": registration["callback_id"],
            "callback_type": body["callback_type"],
            "url": destination["url"],
            "method": destination.get("method", "POST"),
            "content_type": destination.get("content_type", "application/json"),
            "body": body,
            "attempt": 1,
            "duplicate": False,
        }
        self._push(job, delay)

    def _push(self, job: dict[str, Any], delay: float) -> None:
        with self._cond:
            job.setdefault("generation", self._generation)
            if job["generation"] != self._generation:
                return
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), job))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._in_flight

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or being sent; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def clear(self) -> None:
        """Drop queued events and the log; attempts in flight finish but are not logged."""
        with self._cond:
            self._heap.clear()
            self.log = []
            self._generation += 1
            self._cond.notify_all()

    # -- workers --------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        workers = int(self.sandbox.config["delivery"].get("workers", 1)) or 1
        for index in range(workers):
            thread = threading.Thread(
                target=self._work, name=f"vibes-sandbox-delivery-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def _next_job(self) -> dict[str, Any] | None:
        with self._cond:
            while not self._stopping:
                if self._heap:
                    due = self._heap[0][0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        _, _, job = heapq.heappop(self._heap)
                        self._in_flight += 1
                        return job
                    self._cond.wait(wait)
                else:
                    self._cond.wait(0.5)
            return None

    def _work(self) -> None:
        session = requests.Session()
        while True:
            job = self._next_job()
            if job is None:
                session.close()
                return
            try:
                self._attempt(session, job)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _attempt(self, session: requests.Session, job: dict[str, Any]) -> None:
        faults = self.sandbox.faults
        body = dict(job["body"], delivery_attempt=str(job["attempt"]))
        entry: dict[str, Any] = {
            "event_id": job["event_id"],
            "callback_id": job["callback_id"],
            "type": job["callback_type"],
            "url": job["url"],
            "method": job["method"],
            "content_type": job["content_type"],
            "attempt": job["attempt"],
            "status": None,
            "error": None,
            "outcome": None,
            "duplicate": job["duplicate"],
            "body": body,
            "at": clock.iso(clock.now()),
        }
        started = time.monotonic()
        if self.sandbox.rng.random() < faults["failure_rate"]:
            entry["error"] = "simulated failure: the attempt never reached the destination"
        else:
            try:
                response = session.request(
                    job["method"],
                    job["url"],
                    data=json.dumps(body).encode(),
                    headers={"Content-Type": job["content_type"], "User-Agent": USER_AGENT},
                    timeout=faults["delivery_timeout_ms"] / 1000,
                    allow_redirects=False,
                )
                entry["status"] = response.status_code
            except requests.RequestException as exc:
                entry["error"] = f"{exc.__class__.__name__}: {exc}"[:500]
        entry["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        status = entry["status"]
        if status is not None and 200 <= status < 300:
            entry["outcome"] = "delivered"
            if not job["duplicate"] and self.sandbox.rng.random() < faults["duplicate_rate"]:
                again = dict(job, attempt=job["attempt"] + 1, duplicate=True)
                self._push(again, faults["delay_ms"] / 1000)
        elif status is not None and 400 <= status < 500:
            entry["outcome"] = "rejected"
        elif job["attempt"] < faults["max_attempts"]:
            entry["outcome"] = "retry"
            pause = faults["backoff_ms"] / 1000 * faults["backoff_factor"] ** (job["attempt"] - 1)
            self._push(dict(job, attempt=job["attempt"] + 1), pause)
        else:
            entry["outcome"] = "gave_up"
        self._record(job, entry)

    def _record(self, job: dict[str, Any], entry: dict[str, Any]) -> None:
        with self._cond:
            if job.get("generation") != self._generation:
                return
            entry["id"] = next(self._log_ids)
            self.log.append(entry)

    def entries(self, since_id: int | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [entry for entry in self.log if since_id is None or entry["id"] > since_id]
