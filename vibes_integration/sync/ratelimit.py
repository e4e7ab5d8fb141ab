"""One rate limit for all workers: at most ``VIBES_RATE_LIMIT`` calls per second per company.

Vibes answers 429 past 100 calls per second per company and sends no header to pace by,
so the workers pace themselves, together. The limiter is a virtual schedule: every call
reserves the next free slot, slots are ``1 / rate`` seconds apart, and a caller sleeps
until its slot starts. Calls are therefore spread evenly, never bunched at the start of
a second, and an idle limiter grants no burst. The effective rate is
``VIBES_RATE_LIMIT * VIBES_SYNC_RATE_HEADROOM`` so that network jitter between our clock
and Vibes' never pushes a second over the limit.

The schedule is shared through the database by default (one row per company, changed
under a row lock: works on SQLite and PostgreSQL, across processes and hosts), or through
the cache when a shared cache (Redis, Memcached) is configured. Hosts must keep their
clocks in sync (NTP); the headroom covers a few milliseconds of skew.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, connection, connections, transaction

from prefcenter.conf import setting
from vibes_integration.errors import TransientError
from vibes_integration.sync.calls import mark_released
from vibes_integration.sync.models import RateLimitState

logger = logging.getLogger(__name__)

SHARED_CACHE_BACKENDS = (
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
)


class RateLimiter:
    """Reserves call slots; subclasses decide where the shared schedule lives."""

    name = ""

    def __init__(
        self,
        *,
        company_key: str,
        rate: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be above zero")
        self.company_key = company_key
        self.rate = rate
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep

    def reserve(self, count: int = 1) -> list[float]:
        """Reserve ``count`` consecutive slots; answer their start times (Unix seconds)."""
        raise NotImplementedError

    def acquire(self) -> None:
        """Wait for the next slot: call this right before each call to Vibes."""
        [start] = self.reserve(1)
        self.wait_until(start)

    def wait_until(self, moment: float) -> None:
        delay = moment - self.clock()
        if delay > 0:
            self.sleep(delay)


class DatabaseRateLimiter(RateLimiter):
    """The schedule is one ``RateLimitState`` row per company.

    On SQLite and PostgreSQL a reservation is one ``UPDATE ... RETURNING`` statement, so
    the row is locked only while that statement runs; on PostgreSQL it commits without
    waiting for the WAL flush (the schedule needs no durability: after a crash, slots
    simply start again from now). Other databases lock the row for a read and a write.
    """

    name = "database"

    def reserve(self, count: int = 1) -> list[float]:
        span = count * self.interval
        if connection.vendor in {"sqlite", "postgresql"}:
            end = self._advance(span)
            if end is None:
                self._create_row()
                end = self._advance(span)
            start = end - span
        else:
            start = self._reserve_locked(span)
        return [start + i * self.interval for i in range(count)]

    def _advance(self, span: float) -> float | None:
        """Move the company's next free slot on by ``span``; answer where it now stands."""
        greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
        table = connection.ops.quote_name(RateLimitState._meta.db_table)
        sql = (
            f"UPDATE {table} SET next_slot = {greatest}(next_slot, %s) + %s "  # noqa: S608
            "WHERE company_key = %s RETURNING next_slot"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(sql, [self.clock(), span, self.company_key])
            row = cursor.fetchone()
        return float(row[0]) if row else None

    def _create_row(self) -> None:
        try:
            with transaction.atomic():
                RateLimitState.objects.get_or_create(company_key=self.company_key)
        except IntegrityError:
            pass  # two workers created the company's row at once; the other one won

    def _reserve_locked(self, span: float) -> float:
        self._create_row()
        with transaction.atomic():
            state = RateLimitState.objects.select_for_update().get(company_key=self.company_key)
            start = max(self.clock(), state.next_slot)
            state.next_slot = start + span
            state.save(update_fields=["next_slot"])
        return start


class CacheRateLimiter(RateLimiter):
    """The schedule lives in a shared cache: a slot is taken by the one ``add`` that wins it.

    Slot ``n`` covers ``[n * interval, (n + 1) * interval)``; ``cache.add`` is atomic on
    Redis and Memcached, so exactly one caller gets each slot, whichever process it is in.
    """

    name = "cache"

    def __init__(self, *, cache_alias: str = "default", **kwargs) -> None:
        super().__init__(**kwargs)
        self.cache = caches[cache_alias]
        self.prefix = f"vibes-sync-rate:{self.company_key}:{self.rate:g}"

    def reserve(self, count: int = 1) -> list[float]:
        slots = []
        hint_key = f"{self.prefix}:next"
        slot = max(math.ceil(self.clock() / self.interval), int(self.cache.get(hint_key) or 0))
        while len(slots) < count:
            if self.cache.add(f"{self.prefix}:{slot}", 1, timeout=60):
                slots.append(slot * self.interval)
            slot += 1
        self.cache.set(hint_key, slot, timeout=60)
        return slots


def limiter_backend() -> str:
    """``database`` or ``cache``: where the workers share the schedule (see the module)."""
    choice = setting("VIBES_SYNC_RATE_LIMITER")
    if choice != "auto":
        return choice
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return "cache" if backend in SHARED_CACHE_BACKENDS else "database"


def get_rate_limiter() -> RateLimiter:
    """The limiter for the configured company, rate and backend, read now."""
    rate = setting("VIBES_RATE_LIMIT") * setting("VIBES_SYNC_RATE_HEADROOM")
    cls = CacheRateLimiter if limiter_backend() == "cache" else DatabaseRateLimiter
    return cls(company_key=setting("VIBES_COMPANY_KEY"), rate=rate)


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
