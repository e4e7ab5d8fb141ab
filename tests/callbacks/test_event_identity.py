"""A delivery is identified by (callback_type, event_id), and migration 0008 both ways.

Vibes' own subscription_added and subscription_removed examples share one event id: each
must be stored and applied. A repeat of the same type and id is still one event.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from crm.choices import ConsentAction, SubscriptionState
from crm.models import ConsentEvent, Subscription
from tests.fixtures.builders import make_list, make_person
from tests.fixtures.callbacks import callback_body, post_callback, process_callbacks
from tests.fixtures.migrations import migrate_everything_to_latest
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus

pytestmark = [pytest.mark.usefixtures("open_callbacks")]

SHARED_ID = "evt-shared-by-two-types"
TABLE = CallbackEvent._meta.db_table


def _older_example_pair() -> tuple[dict, dict]:
    """An added and a removed of one person and list, with one event id (as in Vibes'
    examples), the person named the older way (``id`` and ``external_id`` only)."""
    person = {"id": "ABC123", "external_id": "crm-alice-01"}
    added = callback_body("subscription_added", event_id=SHARED_ID)
    added["subscription"]["person"] = dict(person)
    removed = callback_body("subscription_removed_stop", event_id=SHARED_ID)
    removed["subscription"]["person"] = dict(person)
    return added, removed


@pytest.mark.django_db
@pytest.mark.parametrize("order", ["added first", "removed first"])
def test_added_and_removed_sharing_an_event_id_are_both_applied(client, order):
    make_list(list_id="1001")
    make_person(external_person_id="crm-alice-01")
    added, removed = _older_example_pair()
    bodies = [added, removed] if order == "added first" else [removed, added]

    answers = [post_callback(client, body).json() for body in bodies]
    process_callbacks()

    assert answers == [{"status": "stored"}, {"status": "stored"}]
    events = {e.callback_type: e for e in CallbackEvent.objects.filter(event_id=SHARED_ID)}
    assert set(events) == {"subscription_added", "subscription_removed"}
    assert events["subscription_removed"].status == CallbackStatus.PROCESSED
    # An added that arrives after the removal it precedes changes no subscription (the
    # ordering rules) but is applied to the ledger all the same.
    assert events["subscription_added"].status == (
        CallbackStatus.PROCESSED if order == "added first" else CallbackStatus.STALE
    )
    assert Subscription.objects.get().state == SubscriptionState.UNSUBSCRIBED
    assert sorted(ConsentEvent.objects.values_list("action", flat=True)) == sorted(
        [ConsentAction.OPTED_IN, ConsentAction.OPTED_OUT]
    )


@pytest.mark.django_db
def test_a_retried_removal_writes_its_own_ledger_line_beside_the_added_one(client):
    make_list(list_id="1001")
    make_person(external_person_id="crm-alice-01")
    added, removed = _older_example_pair()
    post_callback(client, added)
    process_callbacks()
    post_callback(client, removed)
    # As after a failed first attempt (rolled back): this processing is its second.
    CallbackEvent.objects.filter(callback_type="subscription_removed").update(attempts=1)

    process_callbacks()

    event = CallbackEvent.objects.get(callback_type="subscription_removed")
    assert (event.status, event.attempts) == (CallbackStatus.PROCESSED, 2)
    assert ConsentEvent.objects.filter(action=ConsentAction.OPTED_OUT).count() == 1
    assert ConsentEvent.objects.filter(action=ConsentAction.OPTED_IN).count() == 1


@pytest.mark.django_db
def test_a_repeat_of_the_same_type_and_id_is_one_event_counted_twice(client):
    make_list(list_id="1001")
    make_person(external_person_id="crm-alice-01")
    added, removed = _older_example_pair()

    first = post_callback(client, added).json()
    again = post_callback(client, dict(added, delivery_attempt="2")).json()
    other_type = post_callback(client, removed).json()
    process_callbacks()

    assert (first, again, other_type) == (
        {"status": "stored"},
        {"status": "duplicate"},
        {"status": "stored"},
    )
    added_event = CallbackEvent.objects.get(event_id=SHARED_ID, callback_type="subscription_added")
    assert added_event.deliveries == 2
    removed_event = CallbackEvent.objects.get(
        event_id=SHARED_ID, callback_type="subscription_removed"
    )
    assert removed_event.deliveries == 1
    assert ConsentEvent.objects.filter(action=ConsentAction.OPTED_IN).count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_row_of_one_type_and_id():
    CallbackEvent.objects.create(event_id="e-1", callback_type="person_added")
    CallbackEvent.objects.create(event_id="e-1", callback_type="person_updated")
    with pytest.raises(IntegrityError), transaction.atomic():
        CallbackEvent.objects.create(event_id="e-1", callback_type="person_added")


def _migrate(target: str | None = None) -> None:
    if target is None:
        migrate_everything_to_latest()
        return
    executor = MigrationExecutor(connection)
    executor.migrate([("vibes_callbacks", target)])


def _unique_column_sets() -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return {
        tuple(info["columns"])
        for info in constraints.values()
        if info["unique"] and not info["primary_key"]
    }


def _rows() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT event_id, callback_type FROM {TABLE} ORDER BY id")
        return [tuple(row) for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_migration_0008_keeps_stored_events_both_ways():
    assert _unique_column_sets() >= {("event_id", "callback_type")}
    assert ("event_id",) not in _unique_column_sets()
    try:
        _migrate("0007_resolve_permission")
        assert ("event_id",) in _unique_column_sets()
        assert ("event_id", "callback_type") not in _unique_column_sets()
        with connection.cursor() as cursor:
            for event_id, callback_type in [("a", "subscription_added"), ("b", "person_added")]:
                cursor.execute(
                    f"INSERT INTO {TABLE} (event_id, callback_type, status, body, headers, "
                    "method, authenticated_as, deliveries, received_at, person_key, "
                    "external_person_id, mdn, list_id, attempts, error, traceback, notes) "
                    "VALUES (%s, %s, 'processed', '{}', '{}', 'POST', '', 1, %s, '', '', '', "
                    "'', 1, '', '', '[]')",
                    [event_id, callback_type, "2026-03-01 10:00:00+00:00"],
                )
    finally:
        _migrate()

    assert _rows() == [("a", "subscription_added"), ("b", "person_added")]
    CallbackEvent.objects.create(event_id="a", callback_type="subscription_removed")
    CallbackEvent.objects.create(event_id="a", callback_type="person_updated")
    with pytest.raises(IntegrityError), transaction.atomic():
        CallbackEvent.objects.create(event_id="a", callback_type="subscription_added")
    removed_pk, updated_pk = (
        CallbackEvent.objects.filter(event_id="a").order_by("id").values_list("pk", flat=True)[1:]
    )

    try:
        _migrate("0007_resolve_permission")
        # Going back, the events that shared "a" keep their rows under a new event id.
        assert _rows() == [
            ("a", "subscription_added"),
            ("b", "person_added"),
            (f"a~{removed_pk}", "subscription_removed"),
            (f"a~{updated_pk}", "person_updated"),
        ]
        assert ("event_id",) in _unique_column_sets()
    finally:
        _migrate()
    assert ("event_id", "callback_type") in _unique_column_sets()
    assert ("event_id",) not in _unique_column_sets()
    assert len(_rows()) == 4
