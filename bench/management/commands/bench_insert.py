"""``bench_insert``: the callback endpoint's hand-built INSERT against the ORM's ``create()``.

``callback_event_store`` writes each delivery with one hand-built INSERT
(``services._insert``); the ORM would write the same row with ``CallbackEvent.objects.create``.
Both are measured in this one process on the same database, in alternated rounds (the
order swapped every round), at two levels: the insert alone, with the values the store
prepares, and the whole request, a POST of a ``subscription_added`` body to the callback
endpoint through Django's test client (middleware, authentication, the store, the
scheduling of processing), the insert swapped for the ORM's in its rounds. Every event
has its own id, so every insert is a new row.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Mapping

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from bench import data
from bench.harness import CALLBACK_TOKEN, print_json
from crm import services as crm_services
from crm.choices import Source
from vibes_integration.callbacks import services
from vibes_integration.callbacks.models import CallbackEvent

HAND_BUILT = services._insert


def orm_insert(values: Mapping[str, object]) -> None:
    """What the store would run with the ORM: ``create()``, in a savepoint inside a
    caller's transaction (as the hand-built one), on its own in autocommit."""
    if connection.in_atomic_block:
        with transaction.atomic():
            CallbackEvent.objects.create(**values)
    else:
        CallbackEvent.objects.create(**values)


INSERTS: dict[str, Callable[[Mapping[str, object]], None]] = {
    "hand_built": HAND_BUILT,
    "orm": orm_insert,
}
_ids = itertools.count()


def _values() -> dict[str, object]:
    n = next(_ids)
    return {
        "event_id": f"insert-{n}",
        "callback_type": "subscription_added",
        "body": data.subscription_added_body(f"insert-{n}", n).decode(),
        "headers": {"Content-Type": "application/json"},
        "method": "POST",
        "remote_addr": "127.0.0.1",
        "authenticated_as": "token",
        "delivery_attempt": 1,
        "received_at": timezone.now(),
        "truncated_from_bytes": None,
    }


def _time_inserts(insert: Callable[[Mapping[str, object]], None], count: int) -> float:
    """Seconds per insert over ``count`` inserts (the values prepared outside the clock)."""
    batch = [_values() for _n in range(count)]
    started = time.perf_counter()
    for values in batch:
        insert(values)
    return (time.perf_counter() - started) / count


def _time_requests(insert: Callable[[Mapping[str, object]], None], count: int) -> float:
    client = Client()
    path = f"/vibes/callbacks/{CALLBACK_TOKEN}/"
    bodies = []
    for _n in range(count):
        n = next(_ids)
        bodies.append(data.subscription_added_body(f"request-{n}", n % 1000))
    services._insert = insert
    try:
        started = time.perf_counter()
        for body in bodies:
            response = client.post(path, body, content_type="application/json")
            if response.status_code >= 300:
                raise RuntimeError(f"the endpoint answered {response.status_code}")
        return (time.perf_counter() - started) / count
    finally:
        services._insert = HAND_BUILT


def _rounds(timer, rounds: int, count: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in INSERTS}
    order = list(INSERTS)
    timer(HAND_BUILT, count // 4)  # warm up: connection, statement cache, imports
    timer(orm_insert, count // 4)
    for _round in range(rounds):
        for name in order:
            times[name].append(timer(INSERTS[name], count))
        order.reverse()
    return times


def _summary(times: dict[str, list[float]]) -> dict[str, object]:
    hand, orm = times["hand_built"], times["orm"]
    return {
        "hand_built_us": statistics.median(hand) * 1e6,
        "orm_us": statistics.median(orm) * 1e6,
        # > 1: the ORM's insert takes longer; per round, each side's own time.
        "ratio": statistics.median(o / h for o, h in zip(orm, hand, strict=True)),
        "round_ratios": [o / h for o, h in zip(orm, hand, strict=True)],
    }


class Command(BaseCommand):
    help = "Measure the callback store's hand-built INSERT against the ORM's create()."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rounds", type=int, default=8)
        parser.add_argument("--inserts", type=int, default=2000)
        parser.add_argument("--requests", type=int, default=500)

    def handle(self, *args, rounds: int, inserts: int, requests: int, **_):
        crm_services.subscription_list_upsert(
            list_id=data.BENCH_LIST_ID, source=Source.STAFF, name="Bench list"
        )
        insert = _summary(_rounds(_time_inserts, rounds, inserts))
        request = _summary(_rounds(_time_requests, rounds, requests))
        print_json(
            {
                "rounds": rounds,
                "inserts": inserts,
                "requests": requests,
                "insert": insert,
                "request": request,
                "rows": CallbackEvent.objects.count(),
            }
        )
