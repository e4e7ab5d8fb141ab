"""Subscription callbacks applied together (``bulk_apply``) end exactly as applied one by one.

One mixed stream (known and unknown persons, several events of one person in a batch,
duplicate deliveries, events out of order, removals with and without a reason, person
events that change a person's ids, lists the CRM does not have yet) is processed once
with the set-based apply and once with it switched off; subscriptions, persons, ledger
lines and callback events must be the same. A failure inside the set-based step must
leave nothing of it and apply its events one by one instead.
"""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test.utils import CaptureQueriesContext

from crm import services
from crm.choices import Source, SubscriptionState
from crm.demo.people import demo_mdn
from crm.models import ConsentEvent, Person, Subscription
from vibes_integration.callbacks import bulk_apply, processing
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.callbacks.services import callback_event_store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_callbacks")]

KNOWN = 160
START = datetime.datetime(2026, 4, 1, 9, 0, tzinfo=datetime.UTC)
# Subscriptions to list 1001 that exist before the stream, last changed at this date.
EXISTING_AT = START + datetime.timedelta(hours=12)


class _RolledBack(Exception):
    pass


def _stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _known_ref(rng: random.Random, index: int) -> dict[str, Any]:
    key, external_id = f"PK-EQ-{index:03d}", f"crm-eq-{index:03d}"
    shape = rng.random()
    if shape < 0.5:
        return {"person_key": key, "external_id": external_id}
    if shape < 0.7:
        return {"person_key": key}
    if shape < 0.9:
        return {"external_person_id": external_id}
    # Vibes has another person key for them: applied one by one, with a note.
    return {"person_key": f"PK-OTHER-{index:03d}", "external_id": external_id}


def _subscription_body(
    rng: random.Random, number: int, ref: dict[str, Any], moment: datetime.datetime
) -> dict[str, Any]:
    added = rng.random() < 0.6
    callback_type = "subscription_added" if added else "subscription_removed"
    subscription: dict[str, Any] = {
        "person": ref,
        "subscription_list": {"id": rng.choice(("1001", "1001", "1002", "1003"))},
        "opt_in_date": _stamp(moment - datetime.timedelta(minutes=rng.randint(0, 600))),
    }
    if not added:
        if rng.random() < 0.7:
            subscription["opt_out_date"] = _stamp(moment - datetime.timedelta(seconds=1))
        subscription["opt_out_reason"] = rng.choice(
            ("user_opt_out", "keyword_opt_out", "", "made_up_reason")
        )
    body = {
        "event_id": f"evt-eq-{number:04d}",
        "callback_type": callback_type,
        "event_type": callback_type,
        "event_date": _stamp(moment),
        "delivery_attempt": "1",
        "subscription": subscription,
    }
    if rng.random() < 0.02:
        del body["event_date"]
    return body


def _person_body(number: int, index: int, moment: datetime.datetime) -> dict[str, Any]:
    """Vibes gives known person ``index`` a new person key."""
    return {
        "event_id": f"evt-eq-{number:04d}",
        "event_type": "person_updated",
        "event_date": _stamp(moment),
        "delivery_attempt": "1",
        "person": {"person_key": f"PK-NEW-{index:03d}", "external_id": f"crm-eq-{index:03d}"},
    }


def _stream(seed: int) -> list[dict[str, Any]]:
    """Deliveries in the order they arrive; event dates are not in that order."""
    rng = random.Random(seed)
    repeated = rng.sample(range(KNOWN), 12)
    bodies = []
    for number in range(330):
        moment = START + datetime.timedelta(minutes=rng.randint(0, 1440))
        roll = rng.random()
        if roll < 0.04:
            bodies.append(_person_body(number, rng.randrange(KNOWN), moment))
            continue
        if roll < 0.14:
            ref = {"person_key": f"PK-NEW-JOINER-{rng.randrange(30):03d}"}
        elif roll < 0.3:
            ref = _known_ref(rng, rng.choice(repeated))
        else:
            ref = _known_ref(rng, rng.randrange(KNOWN))
        bodies.append(_subscription_body(rng, number, ref, moment))
    for body in rng.sample(bodies, 25):  # duplicate deliveries
        bodies.insert(rng.randrange(len(bodies)), body)
    return bodies


def _setup() -> None:
    for list_id in ("1001", "1002"):
        services.subscription_list_upsert(list_id=list_id, source=Source.VIBES)
    subscription_list = services.subscription_list_upsert(list_id="1001", source=Source.VIBES)[0]
    for index in range(KNOWN):
        person = services.person_create(
            external_person_id=f"crm-eq-{index:03d}",
            person_key=f"PK-EQ-{index:03d}" if index % 7 else None,
            mdn=demo_mdn(index) if index % 3 else None,
            external_id_in_vibes=True,  # added to Vibes by the CRM: Vibes holds the id
            source=Source.STAFF,
        )
        if index % 2:
            services.subscription_change(
                person=person,
                subscription_list=subscription_list,
                state=SubscriptionState.SUBSCRIBED,
                source=Source.VIBES,
                event_date=EXISTING_AT,
                opt_in_date=EXISTING_AT,
            )


def _store(bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        callback_event_store(
            body=json.dumps(body).encode(),
            method="POST",
            headers={},
            remote_addr="127.0.0.1",
            authenticated_as="",
        )
    # An event without a date is dated when it was received: the same in both runs.
    CallbackEvent.objects.update(received_at=START + datetime.timedelta(days=2))


def _snapshot() -> dict[str, Any]:
    """Everything processing decides, by natural keys (ids differ between the runs)."""
    return {
        "persons": sorted(
            Person.objects.values_list("external_person_id", "person_key", "mdn", "first_name")
        ),
        "subscriptions": sorted(
            Subscription.objects.values_list(
                "person__external_person_id",
                "subscription_list__list_id",
                "state",
                "opt_in_date",
                "opt_out_date",
                "opt_out_reason",
                "source",
                "event_date",
            )
        ),
        "ledger": sorted(
            ConsentEvent.objects.values_list(
                "person__external_person_id",
                "subscription_list__list_id",
                "action",
                "source",
                "occurred_at",
                "mdn",
                "ip_address",
                "user_agent",
                "disclosure_text",
                "opt_out_reason",
                "reference",
            ),
            key=repr,
        ),
        "callback_events": sorted(
            (
                callback_event.event_id,
                callback_event.status,
                tuple(callback_event.notes),
                callback_event.attempts,
                callback_event.error,
                callback_event.event_date,
                callback_event.person.external_person_id if callback_event.person else None,
                callback_event.subscription_list.list_id
                if callback_event.subscription_list
                else None,
                callback_event.person_key,
                callback_event.external_person_id,
                callback_event.mdn,
                callback_event.list_id,
                callback_event.next_attempt_at is None,
                callback_event.processed_at is not None,
            )
            for callback_event in CallbackEvent.objects.select_related(
                "person", "subscription_list"
            )
        ),
    }


def _processed(monkeypatch, bodies, *, together: bool) -> tuple[dict[str, Any], list[int]]:
    """Process ``bodies`` from the same starting point; nothing of it is kept."""
    monkeypatch.setattr(bulk_apply, "ENABLED", together)
    applied_together: list[int] = []
    real_apply = bulk_apply.apply

    def recording(planned):
        applied = real_apply(planned)
        applied_together.extend(item.callback_event.pk for item in applied)
        return applied

    monkeypatch.setattr(bulk_apply, "apply", recording)
    try:
        with transaction.atomic():
            _setup()
            _store(bodies)
            processing.callback_events_process_received()
            snapshot = _snapshot()
            raise _RolledBack
    except _RolledBack:
        pass
    return snapshot, applied_together


@pytest.mark.parametrize("seed", [7, 2026])
def test_a_mixed_stream_ends_the_same_applied_together_or_one_by_one(monkeypatch, seed):
    bodies = _stream(seed)

    together, applied_together = _processed(monkeypatch, bodies, together=True)
    one_by_one, none = _processed(monkeypatch, bodies, together=False)

    assert none == []
    # Most events qualify; the rest (unknown persons, repeats, stale ...) do not.
    assert 60 < len(applied_together) < len(together["callback_events"]) - 50
    assert together["persons"] == one_by_one["persons"]
    assert together["subscriptions"] == one_by_one["subscriptions"]
    assert together["ledger"] == one_by_one["ledger"]
    assert together["callback_events"] == one_by_one["callback_events"]
    statuses = {row[1] for row in together["callback_events"]}
    assert {CallbackStatus.PROCESSED, CallbackStatus.STALE} <= statuses
    # Every event was handled once: one attempt each, nothing left waiting.
    assert {row[3] for row in together["callback_events"]} == {1}
    assert CallbackStatus.RECEIVED not in statuses


def _known_batch(count: int) -> list[dict[str, Any]]:
    """Events that all qualify: known persons (each once), list 1002, alternately added
    and removed."""
    indexes = [index for index in range(1, KNOWN) if index % 7][:count]
    bodies = []
    for number, index in enumerate(indexes):
        moment = START + datetime.timedelta(minutes=number)
        added = number % 2 == 0
        callback_type = "subscription_added" if added else "subscription_removed"
        subscription: dict[str, Any] = {
            "person": {"person_key": f"PK-EQ-{index:03d}", "external_id": f"crm-eq-{index:03d}"},
            "subscription_list": {"id": "1002"},
            "opt_in_date": _stamp(moment - datetime.timedelta(hours=1)),
        }
        if not added:
            subscription["opt_out_reason"] = "user_opt_out"
        bodies.append(
            {
                "event_id": f"evt-eq-{number:04d}",
                "callback_type": callback_type,
                "event_date": _stamp(moment),
                "subscription": subscription,
            }
        )
    return bodies


def test_a_batch_of_known_persons_costs_a_few_statements_not_a_few_per_event(monkeypatch):
    _setup()
    _store(_known_batch(60))
    with CaptureQueriesContext(transaction.get_connection()) as queries:
        assert processing.callback_events_process_received() == 60

    assert set(CallbackEvent.objects.values_list("status", flat=True)) == {CallbackStatus.PROCESSED}
    assert ConsentEvent.objects.filter(reference__startswith="callback:evt-eq-").count() == 60
    # Claim, two reads, savepoint, subscriptions, writes, outcome: far below 5 per event.
    assert len(queries) < 30


def test_a_failure_inside_the_set_based_step_leaves_nothing_and_applies_one_by_one(
    monkeypatch,
):
    bodies = _known_batch(40)
    expected, _ = _processed(monkeypatch, bodies, together=False)
    monkeypatch.setattr(bulk_apply, "ENABLED", True)
    real = services.subscriptions_report_many
    calls = []

    def written_then_broken(**kwargs):
        changes = real(**kwargs)  # the subscriptions and ledger lines are written ...
        calls.append(len(changes))
        raise DatabaseError("connection reset")  # ... and then the step breaks

    monkeypatch.setattr(services, "subscriptions_report_many", written_then_broken)
    _setup()
    _store(bodies)

    assert processing.callback_events_process_received() == 40

    # Tried together first (again for what was left when the batch's time was up).
    assert calls[0] == 40
    assert _snapshot() == expected
    assert ConsentEvent.objects.filter(reference__startswith="callback:evt-eq-").count() == 40


def test_an_event_failing_one_by_one_undoes_the_set_based_step_too(monkeypatch):
    """The batch's first try is rolled back whole when a per-event event raises; on the
    second try everything is applied one by one and only that event fails."""
    bodies = _known_batch(30)
    bodies.append(_subscription_body(random.Random(1), 99, {"person_key": "PK-UNKNOWN-X"}, START))
    monkeypatch.setattr(bulk_apply, "ENABLED", True)
    real = services.consent_record

    def failing_for_the_unknown(**kwargs):
        if kwargs["person"].person_key == "PK-UNKNOWN-X":
            raise DatabaseError("deadlock detected")
        return real(**kwargs)

    monkeypatch.setattr(services, "consent_record", failing_for_the_unknown)
    _setup()
    _store(bodies)

    assert processing.callback_events_process_received() == 31

    statuses = dict(CallbackEvent.objects.values_list("event_id", "status"))
    assert statuses.pop("evt-eq-0099") == CallbackStatus.FAILED
    assert set(statuses.values()) == {CallbackStatus.PROCESSED}
    assert set(CallbackEvent.objects.values_list("attempts", flat=True)) == {1}
    assert ConsentEvent.objects.filter(reference__startswith="callback:evt-eq-").count() == 30
    assert not Person.objects.filter(person_key="PK-UNKNOWN-X").exists()
