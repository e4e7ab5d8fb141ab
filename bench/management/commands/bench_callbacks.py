"""``bench_callbacks``: store callback events the way the endpoint does, without HTTP.

The processing measure needs a known number of stored events with their processing
scheduled; ``callback_event_store`` is exactly what the callback view runs after
authenticating, so the stored rows and the tasks it schedules are the real ones.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db.models import Max

from bench import data
from bench.harness import print_json
from crm import services
from crm.choices import Source
from vibes_integration.callbacks.models import CallbackEvent
from vibes_integration.callbacks.services import callback_event_store


class Command(BaseCommand):
    help = "Store subscription_added events for bench persons start..start+count-1."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--start", type=int, default=0)
        parser.add_argument("--prefix", default="proc")

    def handle(self, *args, count: int, start: int, prefix: str, **_):
        services.subscription_list_upsert(
            list_id=data.BENCH_LIST_ID, source=Source.STAFF, name="Bench list"
        )
        first_id = (CallbackEvent.objects.aggregate(last=Max("id"))["last"] or 0) + 1
        started = time.monotonic()
        for index in range(start, start + count):
            callback_event_store(
                body=data.subscription_added_body(f"{prefix}-{index}", index),
                method="POST",
                headers={"Content-Type": "application/json"},
                remote_addr="127.0.0.1",
                authenticated_as="token",
            )
        print_json({"events": count, "first_id": first_id, "seconds": time.monotonic() - started})
