"""Vibes' per-company rate limit: a sliding one-second window.

A request is refused (429) when ``limit`` requests of the same company were accepted
during the second before it. Refused requests do not count, so a client that slows down
recovers at once. ``GRACE_SECONDS`` shortens the window slightly to absorb the jitter of
network and thread scheduling between a client that paces itself exactly at ``limit``/s
and this server (a request delayed on its way looks closer to the next one): a client
sending 100/s is never refused, one sending 110/s is (110 x 0.95 > 100).
"""

from __future__ import annotations

import threading
import time
from collections import deque

GRACE_SECONDS = 0.05


class SlidingWindowLimiter:
    def __init__(self, window: float = 1.0) -> None:
        self.window = window - GRACE_SECONDS
        self._accepted: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, company_key: str, limit: float | None) -> bool:
        if not limit:
            return True
        now = time.monotonic()
        with self._lock:
            accepted = self._accepted.setdefault(company_key, deque())
            while accepted and accepted[0] <= now - self.window:
                accepted.popleft()
            if len(accepted) >= limit:
                return False
            accepted.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._accepted.clear()
