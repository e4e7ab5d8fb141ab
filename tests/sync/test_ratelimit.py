"""The shared rate limiter hands out evenly spaced slots, whoever asks."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from prefcenter.conf import setting
from vibes_integration.sync.ratelimit import (
    CacheRateLimiter,
    DatabaseRateLimiter,
    RateGate,
    get_rate_limiter,
    limiter_backend,
)


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def spacing(slots: list[float]) -> set[float]:
    ordered = sorted(slots)
    return {round(b - a, 9) for a, b in itertools.pairwise(ordered)}


@pytest.mark.django_db
def test_database_limiter_spaces_every_slot_across_workers():
    clock = FakeClock()
    one = DatabaseRateLimiter(company_key="demo", rate=100, clock=clock, sleep=clock.sleep)
    two = DatabaseRateLimiter(company_key="demo", rate=100, clock=clock, sleep=clock.sleep)
    slots = one.reserve(3) + two.reserve(2) + one.reserve(1)
    assert slots[0] == clock.now  # an idle limiter grants a call at once...
    assert spacing(slots) == {0.01}  # ...and never two closer than 1/rate
    other = DatabaseRateLimiter(company_key="other", rate=100, clock=clock, sleep=clock.sleep)
    assert other.reserve(1) == [clock.now]  # each company has its own schedule


@pytest.mark.django_db
def test_database_limiter_grants_no_burst_after_idling():
    clock = FakeClock()
    limiter = DatabaseRateLimiter(company_key="demo", rate=10, clock=clock, sleep=clock.sleep)
    limiter.reserve(5)
    clock.now += 60  # a quiet minute earns nothing
    slots = limiter.reserve(3)
    assert slots == [clock.now, clock.now + 0.1, clock.now + 0.2]


@pytest.mark.django_db
def test_acquire_sleeps_until_the_slot():
    clock = FakeClock()
    limiter = DatabaseRateLimiter(company_key="demo", rate=4, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(5):
        limiter.acquire()
    assert clock.now == pytest.approx(start + 1.0)
    assert clock.slept == pytest.approx([0.25] * 4)


@pytest.mark.django_db
def test_gate_reserves_only_for_waiting_threads_and_forgets_slots_nobody_took():
    clock = FakeClock()
    limiter = DatabaseRateLimiter(company_key="demo", rate=100, clock=clock, sleep=clock.sleep)
    gate = RateGate(limiter, max_reserve=8, max_lateness=0.03)
    assert gate.refill() == 0  # nobody waits: no slot is taken from other workers
    gate._waiting = 3  # three sending threads at the gate
    assert gate.refill() == 3
    assert gate.refill() == 0  # each already has its slot
    clock.now += 1.0  # they never came for them (stopped): the slots passed unused
    assert gate.refill() == 3
    assert gate.passed == 3
    assert limiter.reserve(1) == [clock.now + 0.03]  # the next slot after the new three


class BrokenLimiter:
    """A limiter whose store is unreachable (the database went away)."""

    def clock(self) -> float:
        return 0.0

    def reserve(self, count: int = 1) -> list[float]:
        raise ConnectionError("the rate-limit store is unreachable")


def test_a_gate_that_cannot_reserve_closes_instead_of_keeping_senders_waiting():
    gate = RateGate(BrokenLimiter(), wait_timeout=30)
    refiller = gate.refill_on_own_thread()
    failures = []

    def send():
        try:
            gate.wait()
        except Exception as exc:  # the client's throttle raises into the call
            failures.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    sender.join(timeout=10)
    refiller.join(timeout=10)
    assert not sender.is_alive() and not refiller.is_alive()
    assert [type(exc).__name__ for exc in failures] == ["TransientError"]
    assert "stopped" in str(failures[0])


def test_cache_limiter_gives_each_slot_to_one_caller_only(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"}
    }
    clock = FakeClock(now=2_000_000.0)
    limiters = [
        CacheRateLimiter(company_key="demo", rate=50, clock=clock, sleep=clock.sleep)
        for _ in range(4)
    ]
    slots: list[float] = []
    lock = threading.Lock()

    def take(limiter):
        for _ in range(25):
            [slot] = limiter.reserve(1)
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=take, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(slots) == len(set(slots)) == 100
    assert min(spacing(slots)) >= 0.02 - 1e-6


def test_limiter_backend_follows_the_cache_and_the_setting(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert limiter_backend() == "database"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379",
        }
    }
    assert limiter_backend() == "cache"
    settings.VIBES_SYNC_RATE_LIMITER = "database"
    assert limiter_backend() == "database"


def test_effective_rate_keeps_headroom_under_the_limit(settings, db):
    settings.VIBES_RATE_LIMIT = 100
    limiter = get_rate_limiter()
    assert isinstance(limiter, DatabaseRateLimiter)
    assert limiter.rate == pytest.approx(97)
    settings.VIBES_SYNC_RATE_HEADROOM = 1
    assert get_rate_limiter().rate == 100


def test_bad_sync_settings_fail_the_checks_with_the_variable_named(settings):
    settings.VIBES_SYNC_BATCH_SIZE = "lots"
    settings.VIBES_SYNC_RATE_LIMITER = "cache"
    ids = {message.id: message.msg for message in run_checks()}
    assert "prefcenter.E100" in ids
    assert (
        "VIBES_SYNC_BATCH_SIZE='lots' (the Django setting) is not valid" in ids["prefcenter.E100"]
    )
    del settings.VIBES_SYNC_BATCH_SIZE
    ids = {message.id: message.msg for message in run_checks()}
    assert "prefcenter.E401" in ids


def test_sync_settings_come_from_the_environment_too(monkeypatch):
    monkeypatch.setenv("VIBES_SYNC_LEASE_SECONDS", "7.5")
    assert setting("VIBES_SYNC_LEASE_SECONDS") == 7.5
    monkeypatch.setenv("VIBES_SYNC_PERSON_FIELDS", '{"first_name": "given_name"}')
    assert setting("VIBES_SYNC_PERSON_FIELDS") == {"first_name": "given_name"}
    monkeypatch.setenv("VIBES_SYNC_PERSON_FIELDS", '{"phone": "x"}')
    with pytest.raises(ImproperlyConfigured, match="VIBES_SYNC_PERSON_FIELDS"):
        setting("VIBES_SYNC_PERSON_FIELDS")
