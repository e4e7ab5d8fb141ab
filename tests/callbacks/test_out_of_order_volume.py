"""5,000 deliveries, 20 % of them duplicates, in shuffled order, end in exactly the state
that delivering each event once, in the order it happened, gives.

The events describe a plausible month of one brand: lists announced and renamed, people
added and updated (complete state each time), subscriptions started and stopped again,
with every spelling Vibes uses mixed in. Deliveries go through the real view (most with
Django's test client, some over real HTTP) and are processed in this process, in the
order they were stored, by the function the worker's processing task runs.
"""

from __future__ import annotations

import datetime
import json
import random
from collections import Counter
from typing import Any

import pytest
import requests
from django.db import connection

from crm.demo.people import demo_mdn
from crm.models import ConsentEvent, Person, Subscription, SubscriptionList
from tests.fixtures.callbacks import make_demo_custom_fields, post_callback
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.callbacks.processing import callback_events_process_received
from vibes_integration.callbacks.services import callback_event_store

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("open_callbacks")]

UNIQUE_EVENTS = 4_000
DELIVERIES = 5_000
OVER_REAL_HTTP = 150
PERSONS = 120
LIST_IDS = ("1001", "1002", "1003")
START = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.UTC)
REASONS = ("user_opt_out", "keyword_opt_out", "disconnect", "api_opt_out")


class History:
    """Generates the events in the order they happened, each a whole minute apart (so
    that every timestamp spelling, including the one without seconds, is exact)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.minute = 0
        self.events: list[dict[str, Any]] = []

    def _date(self) -> datetime.datetime:
        self.minute += 1
        return START + datetime.timedelta(minutes=self.minute)

    def _stamp(self, moment: datetime.datetime) -> str:
        shape = self.rng.choice(("z", "offset", "minutes"))
        if shape == "z":
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if shape == "offset":
            return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")
        return moment.strftime("%Y-%m-%dT%H:%MZ")

    def _envelope(self, callback_type: str, moment: datetime.datetime) -> dict[str, Any]:
        body = {
            "event_id": f"evt-{len(self.events):05d}-{self.rng.getrandbits(32):08x}",
            "event_date": self._stamp(moment),
            "delivery_attempt": "1",
        }
        spelling = self.rng.random()
        if spelling < 0.6:
            body.update(callback_type=callback_type, event_type=callback_type)
        elif spelling < 0.8:
            body["callback_type"] = callback_type
        else:
            body["event_type"] = callback_type
        return body

    def _person_ref(self, index: int) -> dict[str, Any]:
        ref = {"person_key": f"PK-{index:04d}"}
        legacy_id_field = self.rng.choice(("id", "person_id", None))
        if legacy_id_field:  # Vibes' deprecated numeric id, beside the key
            ref[legacy_id_field] = str(700000 + index)
        if index % 4:  # every fourth person joined by keyword: Vibes has no external id
            ref[self.rng.choice(("external_id", "external_person_id"))] = f"crm-{index:04d}"
        return ref

    def list_event(self, callback_type: str, list_id: str, name: str) -> None:
        body = self._envelope(callback_type, self._date())
        body["subscription_list"] = {"id": list_id, "name": name}
        self.events.append(body)

    def person_event(self, callback_type: str, index: int, version: int) -> None:
        moment = self._date()
        body = self._envelope(callback_type, moment)
        mdn = demo_mdn(index)
        person: dict[str, Any] = {
            "person_key": f"PK-{index:04d}",
            "mobile_phone": {
                "mdn": mdn if self.rng.random() < 0.7 else mdn.removeprefix("+1"),
                "carrier_code": self.rng.choice(("VZW", "TMO", "ATT")),
            },
            "custom_fields": {
                "first_name": f"Name{index}v{version}",
                "zip_code": self.rng.choice(("98101", "97201", "83702")),
                "shoe_size": self.rng.choice((8, 9.5, "10", 11)),
                "interests": [
                    {"id": str(n), "name": key.title(), "option_key": key}
                    for n, key in enumerate(("hiking", "climbing", "paddling"))
                    if self.rng.random() < 0.5
                ],
                "loyalty_member": self.rng.random() < 0.5,
                "unknown_to_crm": "x",
            },
            "updated_at": self._stamp(moment),
        }
        if index % 4:
            person[self.rng.choice(("external_id", "external_person_id"))] = f"crm-{index:04d}"
        body["person"] = person
        self.events.append(body)

    def subscription_event(self, index: int, list_id: str, added: bool) -> None:
        moment = self._date()
        body = self._envelope("subscription_added" if added else "subscription_removed", moment)
        subscription = {
            "person": self._person_ref(index),
            "subscription_list": {"id": list_id},
            "opt_in_date": self._stamp(moment if added else self.opt_in[(index, list_id)]),
        }
        if added:
            self.opt_in[(index, list_id)] = moment
        else:
            subscription["opt_out_date"] = self._stamp(moment)
            subscription["opt_out_reason"] = self.rng.choice(REASONS)
        body["subscription"] = subscription
        self.events.append(body)

    def generate(self, unique: int) -> list[dict[str, Any]]:
        self.opt_in: dict[tuple[int, str], datetime.datetime] = {}
        for list_id in LIST_IDS:
            self.list_event("subscription_list_added", list_id, f"List {list_id}")
        subscribed: dict[tuple[int, str], bool] = {}
        versions: dict[int, int] = {}
        for index in range(PERSONS):
            self.person_event("person_added", index, 0)
            versions[index] = 0
        while len(self.events) < unique:
            roll = self.rng.random()
            if roll < 0.01:
                list_id = self.rng.choice(LIST_IDS)
                self.list_event("subscription_list_updated", list_id, f"List {list_id} r{roll}")
            elif roll < 0.15:
                index = self.rng.randrange(PERSONS)
                versions[index] += 1
                self.person_event("person_updated", index, versions[index])
            else:
                key = (self.rng.randrange(PERSONS), self.rng.choice(LIST_IDS))
                now_subscribed = not subscribed.get(key, False)
                subscribed[key] = now_subscribed
                self.subscription_event(key[0], key[1], added=now_subscribed)
        return self.events[:unique]


def snapshot() -> dict[str, Any]:
    """Everything the callbacks decide, keyed by what does not depend on row ids."""
    persons = {
        p.external_person_id: (
            p.person_key,
            str(p.mdn) if p.mdn else None,
            p.carrier_code,
            p.first_name,
            json.dumps(p.custom_fields, sort_keys=True),
        )
        for p in Person.objects.all()
    }
    lists = {
        sl.list_id: (sl.name, sl.shown_in_preference_center)
        for sl in SubscriptionList.objects.all()
    }
    subscriptions = {
        (s.person.external_person_id, s.subscription_list.list_id): (
            s.state,
            s.opt_in_date,
            s.opt_out_date,
            s.opt_out_reason,
            s.event_date,
            s.source,
        )
        for s in Subscription.objects.select_related("person", "subscription_list")
    }
    ledger = Counter(
        (
            c.person.external_person_id,
            c.subscription_list.list_id,
            c.action,
            c.occurred_at,
            c.opt_out_reason,
            c.source,
            c.reference,
        )
        for c in ConsentEvent.objects.select_related("person", "subscription_list")
    )
    return {
        "persons": persons,
        "lists": lists,
        "subscriptions": subscriptions,
        "ledger": ledger,
    }


def process_in_arrival_order() -> int:
    """What the worker's processing run does with the stored events, oldest first."""
    return callback_events_process_received()


def _wipe() -> None:
    tables = [
        "vibes_callbacks_callbackwatermark",
        "vibes_callbacks_callbackevent",
        "django_tasks_database_dbtaskresult",
        "crm_consentevent",
        "crm_optinrequest",
        "crm_subscription",
        "crm_person",
        "crm_subscriptionlist",
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")


@pytest.fixture
def commits_without_waiting_for_disk():
    """PostgreSQL: this test's own connection does not wait for each commit to reach the
    disk. Results are the same; durability after a crash does not matter to this test,
    and 8,000 waits for the disk would be most of its time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")


@pytest.mark.usefixtures("commits_without_waiting_for_disk")
def test_shuffled_duplicated_delivery_ends_like_in_order_delivery(client, live_server):
    make_demo_custom_fields()
    rng = random.Random(20260305)
    events = History(rng).generate(UNIQUE_EVENTS)
    assert len({e["event_id"] for e in events}) == UNIQUE_EVENTS

    # In order, each once: stored as the view stores them, then processed.
    for body in events:
        created = callback_event_store(
            body=json.dumps(body).encode(),
            method="POST",
            headers={},
            remote_addr="127.0.0.1",
            authenticated_as="open",
        )
        assert created
    assert process_in_arrival_order() == UNIQUE_EVENTS
    expected = snapshot()
    assert len(expected["persons"]) == PERSONS
    assert len(expected["subscriptions"]) > PERSONS
    assert set(CallbackEvent.objects.values_list("status", flat=True)) == {CallbackStatus.PROCESSED}

    _wipe()
    duplicates = [
        dict(rng.choice(events), delivery_attempt=str(rng.randint(2, 4)))
        for _ in range(DELIVERIES - UNIQUE_EVENTS)
    ]
    deliveries = events + duplicates
    rng.shuffle(deliveries)
    over_http = set(rng.sample(range(len(deliveries)), OVER_REAL_HTTP))
    session = requests.Session()
    for position, body in enumerate(deliveries):
        if position in over_http:
            response = session.request(
                rng.choice(("POST", "PUT")),
                f"{live_server.url}/vibes/callbacks/",
                data=json.dumps(body).encode(),
                headers={"Content-Type": rng.choice(("application/json", "text/json"))},
                timeout=10,
            )
        else:
            response = post_callback(client, body, method=rng.choice(("post", "put")))
        assert response.status_code == 200
    session.close()
    assert CallbackEvent.objects.count() == UNIQUE_EVENTS
    assert process_in_arrival_order() == UNIQUE_EVENTS

    assert snapshot() == expected
    statuses = Counter(CallbackEvent.objects.values_list("status", flat=True))
    assert set(statuses) == {CallbackStatus.PROCESSED, CallbackStatus.STALE}
    assert statuses[CallbackStatus.STALE] > 0
    assert sum(CallbackEvent.objects.values_list("deliveries", flat=True)) == DELIVERIES
