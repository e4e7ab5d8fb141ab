"""ack_participant_* move web opt-ins on; subscription_list_* keep the catalogue."""

from __future__ import annotations

import datetime

import pytest

from crm import services
from crm.choices import ConsentAction, OptInStatus, Source, SubscriptionState
from crm.models import ConsentEvent, OptInRequest, Person, Subscription, SubscriptionList
from tests.fixtures.builders import make_list, make_person
from tests.fixtures.callbacks import callback_body, deliver
from vibes_integration.callbacks.models import CallbackStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_callbacks")]


@pytest.fixture
def deals(db) -> SubscriptionList:
    return make_list(list_id="1001", name="Deals & offers", acquisition_campaign_id="AC1001")


@pytest.fixture
def web_opt_in(deals) -> OptInRequest:
    """Dina typed her number into the preference center and asked to join Deals."""
    person = make_person(external_person_id="crm-dina-04", first_name="Dina")
    [request] = services.opt_in_request(
        person=person,
        mdn="+12015550144",
        subscription_lists=[deals],
        source=Source.PREFERENCE_CENTER,
    )
    return request


def test_pending_then_confirmed_subscribes_and_gives_the_person_the_number(client, web_opt_in):
    pending = deliver(client, callback_body("ack_participant_added_pending"))
    web_opt_in.refresh_from_db()
    assert pending.status == CallbackStatus.PROCESSED
    assert web_opt_in.status == OptInStatus.PENDING
    assert web_opt_in.expire_date == datetime.datetime(2026, 3, 5, 9, 30, tzinfo=datetime.UTC)

    confirmed = deliver(client, callback_body("ack_participant_changed_confirmed"))

    assert confirmed.status == CallbackStatus.PROCESSED
    web_opt_in.refresh_from_db()
    assert web_opt_in.status == OptInStatus.CONFIRMED
    person = web_opt_in.person
    person.refresh_from_db()
    assert str(person.mdn) == "+12015550144"
    assert person.person_key == "PK-DINA-04"
    assert confirmed.person == person
    subscription = Subscription.objects.get(person=person)
    assert subscription.state == SubscriptionState.SUBSCRIBED
    opted_in = ConsentEvent.objects.get(action=ConsentAction.OPTED_IN)
    assert opted_in.source == Source.VIBES
    assert opted_in.reference == "callback:evt-ack-changed-confirmed-0001"
    assert str(opted_in.mdn) == "+12015550144"


def test_rejected_puts_the_subscription_back_and_records_the_no(client, web_opt_in):
    deliver(client, callback_body("ack_participant_added_pending"))

    event = deliver(client, callback_body("ack_participant_changed_rejected"))

    assert event.status == CallbackStatus.PROCESSED
    web_opt_in.refresh_from_db()
    assert web_opt_in.status == OptInStatus.REJECTED
    assert Subscription.objects.get().state == SubscriptionState.UNSUBSCRIBED
    rejected = ConsentEvent.objects.get(action=ConsentAction.OPT_IN_REJECTED)
    assert rejected.reference == "callback:evt-ack-changed-rejected-0001"
    assert rejected.source == Source.VIBES


def test_confirmed_before_pending_stays_confirmed(client, web_opt_in):
    deliver(client, callback_body("ack_participant_changed_confirmed"))
    late = deliver(client, callback_body("ack_participant_added_pending"))

    assert late.status == CallbackStatus.PROCESSED
    web_opt_in.refresh_from_db()
    assert web_opt_in.status == OptInStatus.CONFIRMED
    assert Subscription.objects.get().state == SubscriptionState.SUBSCRIBED


def test_the_subscription_added_that_follows_a_confirmation_changes_nothing_more(
    client, web_opt_in
):
    deliver(client, callback_body("ack_participant_changed_confirmed"))
    body = callback_body("subscription_added", event_date="2026-03-04T09:31:11Z")
    body["subscription"]["person"] = {"id": "PK-DINA-04", "external_id": "crm-dina-04"}

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED
    assert Person.objects.count() == 1
    assert Subscription.objects.get().state == SubscriptionState.SUBSCRIBED


def test_a_confirmation_from_a_vibes_landing_page_creates_and_subscribes_the_person(client, deals):
    event = deliver(client, callback_body("ack_participant_changed_confirmed"))

    assert event.status == CallbackStatus.PROCESSED
    person = Person.objects.get()
    assert person.external_person_id == "vibes-PK-DINA-04"
    assert str(person.mdn) == "+12015550144"
    assert Subscription.objects.get(person=person).state == SubscriptionState.SUBSCRIBED
    assert ConsentEvent.objects.get().action == ConsentAction.OPTED_IN


def test_a_campaign_no_list_uses_is_ignored_with_a_note(client):
    event = deliver(client, callback_body("ack_participant_changed_confirmed"))

    assert event.status == CallbackStatus.IGNORED
    assert "AC1001" in event.notes[0]
    assert not Person.objects.exists()


def test_list_added_creates_a_hidden_list_and_updated_renames_it(client):
    added = deliver(client, callback_body("subscription_list_added"))

    subscription_list = SubscriptionList.objects.get(list_id="2001")
    assert added.status == CallbackStatus.PROCESSED
    assert added.subscription_list == subscription_list
    assert subscription_list.name == "Trail club"
    assert subscription_list.shown_in_preference_center is False

    deliver(client, callback_body("subscription_list_updated"))
    subscription_list.refresh_from_db()
    assert subscription_list.name == "Trail club (weekly)"


def test_an_older_list_event_is_stale(client):
    deliver(client, callback_body("subscription_list_updated"))
    late = deliver(client, callback_body("subscription_list_added"))

    assert late.status == CallbackStatus.STALE
    assert SubscriptionList.objects.get(list_id="2001").name == "Trail club (weekly)"


def test_a_list_keeps_what_staff_set(client):
    make_list(list_id="2001", name="Old name", description="Ours", disclosure="Legal text")

    deliver(client, callback_body("subscription_list_updated"))

    subscription_list = SubscriptionList.objects.get(list_id="2001")
    assert subscription_list.name == "Trail club (weekly)"
    assert subscription_list.description == "Ours"
    assert subscription_list.disclosure == "Legal text"
    assert subscription_list.shown_in_preference_center is True


def test_a_top_level_subscription_list_names_the_list_of_an_unknown_campaign(client):
    body = callback_body("ack_participant_changed_confirmed", event_id="new")
    body["subscription_list"] = {
        "id": "1002",
        "url": "/companies/demo/mobiledb/subscription_lists/1002",
    }

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED, event.notes
    orders = SubscriptionList.objects.get(list_id="1002")
    assert orders.acquisition_campaign_id == "AC1001"
    person = Person.objects.get()
    assert Subscription.objects.get(person=person).subscription_list == orders
    assert Subscription.objects.get(person=person).state == SubscriptionState.SUBSCRIBED


@pytest.mark.parametrize(
    "callback_type", ["company_participant_added", "company_participant_changed"]
)
def test_company_participant_callbacks_of_the_usual_shape_are_applied(client, deals, callback_type):
    body = callback_body(
        "ack_participant_changed_confirmed",
        event_id="new",
        callback_type=callback_type,
        event_type=callback_type,
    )

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED, event.notes
    person = Person.objects.get()
    assert str(person.mdn) == "+12015550144"
    assert Subscription.objects.get(person=person).state == SubscriptionState.SUBSCRIBED
    assert ConsentEvent.objects.get().action == ConsentAction.OPTED_IN


@pytest.mark.parametrize(
    ("participant", "reason"),
    [
        (None, "without a participant object"),
        ({"person": {"person_key": "PK-1"}, "acquisition_campaign": {"id": "AC1001"}}, "no status"),
        ({"person": {"person_key": "PK-1"}, "status": "CONFIRMED"}, "no acquisition campaign"),
        ({"acquisition_campaign": {"id": "AC1001"}, "status": "CONFIRMED"}, "names no person"),
    ],
)
def test_company_participant_callbacks_of_another_shape_are_kept_ignored_with_the_reason(
    client, deals, participant, reason
):
    body = {
        "event_id": "new",
        "callback_type": "company_participant_changed",
        "event_date": "2026-03-04T09:31:10Z",
    }
    body = callback_body("ack_participant_changed_confirmed", **body)
    if participant is None:
        body.pop("participant")
    else:
        body["participant"] = participant

    event = deliver(client, body)

    assert event.status == CallbackStatus.IGNORED
    assert reason in event.notes[0]
    assert not Person.objects.exists()
    assert not Subscription.objects.exists()
