"""``bench_statements``: SQL statements for one callback, received and then processed.

The callback measures compare rates; these counts say where the difference comes from:
the request stores an event, the worker applies it to the CRM. Processing is counted the
way the worker does it: one processing run over a backlog of ``EVENTS`` events (a batch,
in one transaction), divided by the number of events, so the batch's own statements
(its claim, BEGIN and COMMIT, the list looked up once, the tail run it schedules) are
shared out among them.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import data
from bench.harness import CALLBACK_TOKEN, print_json
from crm import services
from crm.choices import Source
from vibes_integration.callbacks.models import CallbackEvent
from vibes_integration.callbacks.processing import callback_events_process_received

EVENTS = 50


def _kinds(statements: list[dict], per: int = 1) -> dict[str, float]:
    counts: dict[str, float] = {}
    for statement in statements:
        word = statement["sql"].split(None, 1)[0].upper()
        kind = "SAVEPOINT" if word in {"SAVEPOINT", "RELEASE", "ROLLBACK"} else word
        counts[kind] = counts.get(kind, 0) + 1
    return {kind: round(count / per, 2) for kind, count in counts.items()}


class Command(BaseCommand):
    help = "Count the SQL statements of receiving one callback and of processing it in a batch."

    def handle(self, *args, **_):
        services.subscription_list_upsert(
            list_id=data.BENCH_LIST_ID, source=Source.STAFF, name="Bench list"
        )
        indexes = range(800_000 - EVENTS, 800_000)  # clear of the persons other measures seed
        for index in indexes:
            # Known from Vibes, so nothing is queued for the outbound sync: the workers of
            # the processing measure must only process callbacks.
            services.person_create(
                external_person_id=data.external_id(index),
                person_key=data.person_key(index),
                source=Source.VIBES,
            )
        client = Client(REMOTE_ADDR="127.0.0.1")
        path = f"/vibes/callbacks/{CALLBACK_TOKEN}/"
        received = []
        for index in indexes:
            body = data.subscription_added_body(f"statements-{index}", index)
            with CaptureQueriesContext(connection) as captured:
                response = client.post(path, body, content_type="application/json")
            if response.status_code != 200:
                raise RuntimeError(f"the endpoint answered {response.status_code}")
            received.append(captured.captured_queries)
        events = list(
            CallbackEvent.objects.filter(event_id__startswith="statements-")
            .order_by("id")
            .values_list("id", flat=True)
        )
        with CaptureQueriesContext(connection) as captured:
            handled = callback_events_process_received()
        if handled != len(events):
            raise RuntimeError(f"the processing run handled {handled} of {len(events)} events")
        processed = captured.captured_queries
        # Receiving: the last request (caches warm, as in a steady stream). Processing:
        # the whole run, per event.
        print_json(
            {
                "receive": len(received[-1]),
                "receive_kinds": _kinds(received[-1]),
                "process": round(len(processed) / len(events), 2),
                "process_kinds": _kinds(processed, per=len(events)),
                "statuses": dict(
                    CallbackEvent.objects.filter(pk__in=events)
                    .values_list("status")
                    .annotate(Count("id"))
                ),
            }
        )
