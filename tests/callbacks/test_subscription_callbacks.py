"""subscription_added / subscription_removed reach the CRM through its services."""

from __future__ import annotations

import datetime

import pytest

from crm import signals
from crm.choices import ConsentAction, OptOutReason, Source, SubscriptionState
from crm.models import ConsentEvent, Person, Subscription, SubscriptionList
from tests.fixtures.builders import make_list, make_person
from tests.fixtures.callbacks import callback_body, deliver, process_callbacks
from vibes_integration.callbacks.models import CallbackStatus
from vibes_integration.callbacks.services import callback_event_replay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_callbacks")]

UTC = datetime.UTC


def _subscription(body_name: str, *, event_id: str, event_date: str, **subscription_changes):
    body = callback_body(body_name, event_id=event_id, event_date=event_date)
    body["subscription"].update(subscription_changes)
    return body


@pytest.fixture
def deals(db) -> SubscriptionList:
    return make_list(list_id="1001", name="Deals & offers")


def test_a_keyword_joiner_unknown_to_the_crm_is_created_with_a_generated_id(client):
    event = deliver(client, callback_body("subscription_added_keyword_joiner"))

    assert event.status == CallbackStatus.PROCESSED
    person = Person.objects.get()
    assert person.external_person_id == "vibes-PK-KEYWORD-77"
    assert person.person_key == "PK-KEYWORD-77"
    assert person.vibes_person_id == "50177"  # the callback's ``id``, kept apart
    assert person.external_id_in_vibes is False  # Vibes never heard of the generated id
    subscription_list = SubscriptionList.objects.get(list_id="1003")
    assert subscription_list.shown_in_preference_center is False
    subscription = Subscription.objects.get(person=person, subscription_list=subscription_list)
    assert subscription.state == SubscriptionState.SUBSCRIBED
    assert subscription.source == Source.VIBES
    assert subscription.opt_in_date == datetime.datetime(2026, 3, 3, 7, 59, tzinfo=UTC)
    assert event.person == person
    assert event.subscription_list == subscription_list
    assert event.person_key == "PK-KEYWORD-77"
    assert event.list_id == "1003"


def test_a_known_person_is_matched_by_external_id_and_learns_the_person_key(client, deals):
    person = make_person(external_person_id="crm-alice-01")

    deliver(client, callback_body("subscription_added"))

    person.refresh_from_db()
    assert person.person_key == "PK-ALICE-01"
    assert person.vibes_person_id == "50101"
    assert person.external_id_in_vibes is True
    assert Person.objects.count() == 1
    consent = ConsentEvent.objects.get()
    assert consent.action == ConsentAction.OPTED_IN
    assert consent.source == Source.VIBES
    assert consent.reference == "callback:evt-sub-added-0001"
    assert consent.occurred_at == datetime.datetime(2026, 3, 2, 10, 14, 58, tzinfo=UTC)
    assert consent.disclosure_text == ""


def test_stop_unsubscribes_with_its_reason_and_a_consent_event(client, deals):
    person = make_person(external_person_id="crm-alice-01", mdn="+12015550101")
    deliver(client, callback_body("subscription_added"))

    event = deliver(client, callback_body("subscription_removed_stop"))

    assert event.status == CallbackStatus.PROCESSED
    subscription = Subscription.objects.get(person=person, subscription_list=deals)
    assert subscription.state == SubscriptionState.UNSUBSCRIBED
    assert subscription.opt_out_reason == OptOutReason.USER_OPT_OUT
    assert subscription.opt_out_date == datetime.datetime(2026, 3, 9, 18, 40, 11, tzinfo=UTC)
    opt_out = ConsentEvent.objects.get(action=ConsentAction.OPTED_OUT)
    assert opt_out.opt_out_reason == OptOutReason.USER_OPT_OUT
    assert opt_out.source == Source.VIBES
    assert str(opt_out.mdn) == "+12015550101"
    assert opt_out.reference == "callback:evt-sub-removed-0001"


def test_removed_before_added_ends_unsubscribed_and_the_late_add_is_stale(client, deals):
    removed = deliver(client, callback_body("subscription_removed_stop"))
    added = deliver(client, callback_body("subscription_added"))

    assert removed.status == CallbackStatus.PROCESSED
    assert added.status == CallbackStatus.STALE
    subscription = Subscription.objects.get()
    assert subscription.state == SubscriptionState.UNSUBSCRIBED
    assert subscription.opt_in_date == datetime.datetime(2026, 3, 2, 10, 14, 58, tzinfo=UTC)
    assert subscription.opt_out_reason == OptOutReason.USER_OPT_OUT
    # The ledger holds both facts at their own dates, as in-order delivery would.
    ledger = list(ConsentEvent.objects.order_by("occurred_at").values_list("action", flat=True))
    assert ledger == [ConsentAction.OPTED_IN, ConsentAction.OPTED_OUT]


def test_added_again_after_removed_subscribes_again(client, deals):
    deliver(client, callback_body("subscription_added"))
    deliver(client, callback_body("subscription_removed_stop"))

    again = _subscription(
        "subscription_added",
        event_id="evt-sub-added-again",
        event_date="2026-03-20T08:00:00Z",
        opt_in_date="2026-03-20T07:59:59Z",
    )
    event = deliver(client, again)

    assert event.status == CallbackStatus.PROCESSED
    subscription = Subscription.objects.get()
    assert subscription.state == SubscriptionState.SUBSCRIBED
    assert subscription.opt_in_date == datetime.datetime(2026, 3, 20, 7, 59, 59, tzinfo=UTC)
    assert subscription.opt_out_date is None
    assert subscription.opt_out_reason == ""
    assert ConsentEvent.objects.count() == 3


def test_a_duplicate_delivery_is_applied_once(client, deals):
    deliver(client, callback_body("subscription_added"))
    event = deliver(client, callback_body("subscription_added", delivery_attempt="2"))

    assert event.deliveries == 2
    assert ConsentEvent.objects.count() == 1
    assert Subscription.objects.count() == 1


def test_changes_from_callbacks_carry_source_vibes_so_they_are_not_sent_back(client, deals):
    seen = []

    def record(sender, source, **kwargs):
        seen.append((sender.__name__, source))

    for signal in (
        signals.person_changed,
        signals.subscription_changed,
        signals.consent_recorded,
        signals.opt_in_request_changed,
    ):
        signal.connect(record, weak=False, dispatch_uid=f"test-{id(signal)}")
    try:
        deliver(client, callback_body("subscription_added"))
        deliver(client, callback_body("subscription_removed_stop"))
    finally:
        for signal in (
            signals.person_changed,
            signals.subscription_changed,
            signals.consent_recorded,
            signals.opt_in_request_changed,
        ):
            signal.disconnect(dispatch_uid=f"test-{id(signal)}")

    assert {name for name, _ in seen} == {"Person", "Subscription", "ConsentEvent"}
    assert {source for _, source in seen} == {Source.VIBES}


def test_an_undocumented_opt_out_reason_is_noted_and_left_out(client, deals):
    body = callback_body("subscription_removed_stop", event_id="new")
    body["subscription"]["opt_out_reason"] = "moon_phase"

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED
    assert "moon_phase" in event.notes[0]
    assert Subscription.objects.get().opt_out_reason == ""


def test_a_replayed_event_adds_no_second_ledger_line(client, deals):
    event = deliver(client, callback_body("subscription_removed_stop"))
    callback_event_replay(callback_events=[event])
    process_callbacks()

    event.refresh_from_db()
    assert event.status == CallbackStatus.PROCESSED
    assert event.attempts == 2
    assert ConsentEvent.objects.count() == 1
