"""``bench_pace``: the outbound sync's pacing alone, without the database work of a batch.

The same call pool, rate gate and shared database rate limiter the sync uses, making the
same Update Person calls for the bench persons, but recording nothing. Measured next to
the real sync, it shows how much of the limit the pacing itself reaches on this machine,
and so how much the rest of a batch (claiming, planning, recording) costs.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from bench import data
from bench.harness import print_json
from prefcenter.conf import setting
from vibes_integration.sync.concurrency import CallPool
from vibes_integration.sync.ratelimit import get_rate_limiter


class Command(BaseCommand):
    help = "Send --count Update Person calls through the sync's pool and rate limiter only."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, required=True)

    def handle(self, *args, count: int, **_):
        pool = CallPool(limiter=get_rate_limiter(), concurrency=setting("VIBES_SYNC_CONCURRENCY"))
        finished: list[float] = []

        def work(client, index: int) -> float:
            client.update_person_by_external_id(
                data.external_id(index), {"custom_fields": {"first_name": f"Paced{index}"}}
            )
            return time.time()

        def on_results(results) -> None:
            finished.extend(moment for _, moment in results if isinstance(moment, float))

        pool.run(range(count), work, on_results)
        finished.sort()
        print_json(
            {
                "calls": len(finished),
                "rate": (len(finished) - 1) / (finished[-1] - finished[0]) if finished else 0,
            }
        )
