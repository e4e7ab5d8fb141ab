"""Records with known timestamps, for the lag selectors, the dashboard and /metrics."""

from __future__ import annotations

import datetime

from django.utils import timezone

from crm.choices import Source
from tests.fixtures.builders import make_person
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.sync.choices import OperationKind, OperationStatus
from vibes_integration.sync.models import Operation, OutboundCall

CHANGE_LAGS = [float(n) for n in range(1, 101)]  # 1 s … 100 s: p50 50.5, p99 99.01
CALLBACK_LAGS = [n / 10 for n in range(1, 11)]  # 0.1 s … 1.0 s: p50 0.55, p99 0.991


def seconds(value: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=value)


def build_known_history(now: datetime.datetime | None = None) -> dict:
    """Answered operations, callbacks and calls whose delays are known, plus records the
    last hour must leave out (too old, merged, still waiting)."""
    now = now or timezone.now()
    person = make_person(first_name="Timed")
    Operation.objects.all().delete()
    operations = [
        Operation(
            kind=OperationKind.PERSON,
            person=person,
            source=Source.STAFF,
            status=OperationStatus.DONE if n % 3 else OperationStatus.FAILED,
            resolved=True,
            created_at=now - seconds(1800) - seconds(lag),
            finished_at=now - seconds(1800),
        )
        for n, lag in enumerate(CHANGE_LAGS)
    ]
    # Out of the window, or made no call: neither may move the percentiles.
    operations.append(
        Operation(
            kind=OperationKind.PERSON,
            person=person,
            source=Source.STAFF,
            status=OperationStatus.DONE,
            created_at=now - seconds(9000),
            finished_at=now - seconds(7200),
        )
    )
    operations.append(
        Operation(
            kind=OperationKind.PERSON,
            person=person,
            source=Source.STAFF,
            status=OperationStatus.COALESCED,
            created_at=now - seconds(3000),
            finished_at=now - seconds(60),
        )
    )
    waiting_since = now - seconds(300)
    operations.append(
        Operation(
            kind=OperationKind.PERSON,
            person=person,
            source=Source.STAFF,
            status=OperationStatus.PENDING,
            created_at=waiting_since,
        )
    )
    Operation.objects.bulk_create(operations)

    # Arrival order is id order: the old ones first, then the hour's, then one waiting.
    events = [
        CallbackEvent(
            event_id=f"old-{n}",
            status=CallbackStatus.PROCESSED,
            received_at=now - seconds(7200 + 10 * (5 - n)),
            processed_at=now - seconds(7000),
        )
        for n in range(5)
    ]
    events += [
        CallbackEvent(
            event_id=f"hour-{n}",
            status=CallbackStatus.PROCESSED,
            received_at=now - seconds(1200 - n),
            processed_at=now - seconds(1200 - n) + seconds(lag),
        )
        for n, lag in enumerate(CALLBACK_LAGS)
    ]
    callback_waiting_since = now - seconds(90)
    events.append(
        CallbackEvent(
            event_id="waiting", status=CallbackStatus.RECEIVED, received_at=callback_waiting_since
        )
    )
    CallbackEvent.objects.bulk_create(events)

    made = now - seconds(600)
    OutboundCall.objects.bulk_create(
        [
            # An Update Person Vibes answered 404: the person is created next. Not a failure.
            OutboundCall(action="update_person", http_status=404, ok=False, made_at=made),
            OutboundCall(action="add_person", http_status=201, ok=True, made_at=made),
            # A leave already done: the client records it as a success with its 404.
            OutboundCall(action="unsubscribe", http_status=404, ok=True, made_at=made),
            OutboundCall(action="update_person", http_status=200, ok=True, made_at=made),
            # A read by an external id Vibes does not hold: the next identifier is tried.
            OutboundCall(action="get_person", http_status=404, ok=False, made_at=made),
            # Failures: an unknown campaign (a 404 that is not "done") and an outage.
            OutboundCall(action="add_participant", http_status=404, ok=False, made_at=made),
            OutboundCall(action="update_person", http_status=503, ok=False, made_at=made),
            # Yesterday's, out of the hour.
            OutboundCall(
                action="update_person", http_status=503, ok=False, made_at=now - seconds(7200)
            ),
        ]
    )
    return {
        "now": now,
        "change_waiting_since": waiting_since,
        "callback_waiting_since": callback_waiting_since,
    }
