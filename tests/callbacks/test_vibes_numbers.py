"""A number in a callback is a fact Vibes holds: recorded as Vibes holds it, never a failure.

Vibes' own example numbers are not valid in the numbering plan (``+12995551234``: 299 is
no area code; ``+1999999999``: nine digits after +1), and version-1 callbacks carry
national digits (``2995551234``). Each is posted to the real endpoint and processed; the
typed-number path keeps refusing what a person could not have meant.
"""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from crm import selectors, services
from crm.choices import ConsentAction, OptInStatus, Source, SubscriptionState
from crm.models import ConsentEvent, Person, Subscription
from crm.phone import mdn_from_input, vibes_mdn
from crm.services.validation import clean_mdn, clean_mdn_from, clean_vibes_mdn
from tests.fixtures.builders import make_list, make_person
from tests.fixtures.callbacks import callback_body, deliver, process_callbacks
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus

pytestmark = [pytest.mark.usefixtures("open_callbacks")]

VIBES_EXAMPLE = "+12995551234"
TOO_SHORT_FOR_THE_PLAN = "+1999999999"
VERSION_1 = "2995551234"


@pytest.mark.parametrize(
    ("raw", "recorded"),
    [
        (VIBES_EXAMPLE, VIBES_EXAMPLE),
        (TOO_SHORT_FOR_THE_PLAN, TOO_SHORT_FOR_THE_PLAN),
        (VERSION_1, VIBES_EXAMPLE),
        ("+1 299-555-1234", VIBES_EXAMPLE),
        ("+447700900123", "+447700900123"),
        ("", None),
        ("not a number", None),
        ("12", None),
        ("+0123456", None),
        ("+1234567890123456", None),
    ],
)
def test_a_number_from_vibes_is_kept_as_vibes_holds_it(raw, recorded):
    assert vibes_mdn(raw) == recorded


@pytest.mark.parametrize("raw", [VIBES_EXAMPLE, TOO_SHORT_FOR_THE_PLAN, VERSION_1])
def test_a_typed_number_is_still_validated(raw):
    with pytest.raises(ValidationError):
        mdn_from_input(raw)
    with pytest.raises(ValidationError) as caught:
        clean_mdn(raw)
    assert "mdn" in caught.value.message_dict
    with pytest.raises(ValidationError):
        clean_mdn_from(Source.PREFERENCE_CENTER, raw)


def test_the_vibes_path_is_chosen_by_source_and_still_names_the_field():
    assert clean_mdn_from(Source.VIBES, TOO_SHORT_FOR_THE_PLAN) == TOO_SHORT_FOR_THE_PLAN
    assert clean_vibes_mdn(None) is None
    with pytest.raises(ValidationError) as caught:
        clean_vibes_mdn("call me maybe", "mobile_phone")
    assert list(caught.value.message_dict) == ["mobile_phone"]


@pytest.mark.django_db
def test_a_person_typed_in_by_staff_cannot_have_vibes_example_number():
    with pytest.raises(ValidationError) as caught:
        make_person(mdn=VIBES_EXAMPLE, source=Source.STAFF)
    assert "mdn" in caught.value.message_dict


def _confirmed(mdn: str, event_id: str = "new"):
    body = callback_body("ack_participant_changed_confirmed", event_id=event_id)
    body["participant"]["mobile_phone"] = {"mdn": mdn}
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("mdn", [VIBES_EXAMPLE, TOO_SHORT_FOR_THE_PLAN])
def test_a_confirmation_from_a_landing_page_with_vibes_number_subscribes(client, mdn):
    deals = make_list(list_id="1001", acquisition_campaign_id="AC1001")

    event = deliver(client, _confirmed(mdn))

    assert event.status == CallbackStatus.PROCESSED, (event.error, event.notes)
    assert event.attempts == 1
    person = Person.objects.get()
    assert str(person.mdn) == mdn
    assert Subscription.objects.get(person=person, subscription_list=deals).state == (
        SubscriptionState.SUBSCRIBED
    )
    opted_in = ConsentEvent.objects.get(action=ConsentAction.OPTED_IN)
    assert str(opted_in.mdn) == mdn
    assert opted_in.source == Source.VIBES


@pytest.mark.django_db
def test_a_confirmation_of_a_crm_opt_in_records_the_number_vibes_confirmed(client):
    deals = make_list(list_id="1001", acquisition_campaign_id="AC1001")
    person = make_person(first_name="Dina")
    [request] = services.opt_in_request(
        person=person, mdn="+12015550144", subscription_lists=[deals], source=Source.STAFF
    )
    body = _confirmed(VIBES_EXAMPLE)
    body["participant"]["person"] = {"external_person_id": person.external_person_id}

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED, (event.error, event.notes)
    request.refresh_from_db()
    assert request.status == OptInStatus.CONFIRMED
    assert Subscription.objects.get(person=person).state == SubscriptionState.SUBSCRIBED


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_custom_fields")
@pytest.mark.parametrize(
    ("sent", "stored"),
    [(VERSION_1, VIBES_EXAMPLE), (VIBES_EXAMPLE, VIBES_EXAMPLE), (TOO_SHORT_FOR_THE_PLAN,) * 2],
)
def test_person_updated_stores_the_number_vibes_holds(client, sent, stored):
    make_person(external_person_id="crm-carla-03", first_name="Carla")
    body = callback_body("person_updated_version1", event_id="new")
    body["person"]["mobile_phone"] = {"mdn": sent, "carrier_code": "TMO"}

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED, (event.error, event.notes)
    person = Person.objects.get()
    assert str(person.mdn) == stored
    assert person.carrier_code == "TMO"
    assert not [note for note in event.notes if "umber" in note]
    assert event.mdn == stored


@pytest.mark.django_db
def test_a_person_added_with_vibes_number_is_created_with_it(client):
    body = callback_body("person_added", event_id="new")
    body["person"]["mobile_phone"] = {"mdn": TOO_SHORT_FOR_THE_PLAN}
    body["person"]["custom_fields"] = {"first_name": "Bruno"}

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED, (event.error, event.notes)
    assert str(Person.objects.get().mdn) == TOO_SHORT_FOR_THE_PLAN


@pytest.mark.django_db
def test_text_that_is_no_number_is_noted_and_the_rest_applies(client):
    make_person(external_person_id="crm-carla-03", first_name="Carla", mdn="+12015550143")
    body = callback_body("person_updated_version1", event_id="new")
    body["person"]["mobile_phone"] = {"mdn": "call me", "carrier_code": "TMO"}
    body["person"]["custom_fields"] = {"first_name": "Carla B."}

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED
    person = Person.objects.get()
    assert person.first_name == "Carla B."
    assert str(person.mdn) == "+12015550143"
    assert any("call me" in note for note in event.notes)


@pytest.mark.django_db
def test_a_subscription_removed_with_vibes_number_writes_the_ledger_line(client):
    deals = make_list(list_id="1001")
    person = make_person(external_person_id="crm-alice-01", mdn=VIBES_EXAMPLE, source=Source.VIBES)
    services.subscription_change(
        person=person,
        subscription_list=deals,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
        mdn=VIBES_EXAMPLE,
    )
    body = callback_body("subscription_removed_stop", event_id="new")
    body["subscription"]["person"] = {
        "external_id": "crm-alice-01",
        "mobile_phone": {"mdn": VIBES_EXAMPLE},
    }

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED, (event.error, event.notes)
    assert Subscription.objects.get().state == SubscriptionState.UNSUBSCRIBED
    opted_out = ConsentEvent.objects.get(action=ConsentAction.OPTED_OUT)
    assert str(opted_out.mdn) == VIBES_EXAMPLE


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("sent", "stored"),
    [(VIBES_EXAMPLE, VIBES_EXAMPLE), (TOO_SHORT_FOR_THE_PLAN,) * 2, (VERSION_1, VIBES_EXAMPLE)],
)
def test_a_confirmation_vibes_sends_over_http_with_its_number_is_applied_first_time(
    vibes_sandbox, live_server, settings, sent, stored
):
    """Over real HTTP, through the campaign's registration: the sandbox sends the
    confirmation of a landing-page sign-up naming the number as Vibes holds it."""
    settings.VIBES_CALLBACK_BASE_URL = f"{live_server.url}/vibes/callbacks/"
    deals = make_list(list_id="1001", name="Deals", acquisition_campaign_id="AC1001")
    call_command("vibes_callbacks", "register", stdout=io.StringIO())

    vibes_sandbox.control.trigger(
        "ack_participant_changed",
        campaign_id="AC1001",
        participant={
            "person": {"person_key": "c5235a1-landing", "id": "4711"},
            "mobile_phone": {"mdn": sent},
            "acquisition_campaign": {"id": "AC1001", "keyword": "DEALS"},
            "participation_date": "2026-03-04T09:30:00Z",
            "status": "CONFIRMED",
        },
    )
    vibes_sandbox.control.wait_for_deliveries()
    process_callbacks()

    event = CallbackEvent.objects.get(callback_type="ack_participant_changed")
    assert (event.status, event.attempts) == (CallbackStatus.PROCESSED, 1), event.error
    person = Person.objects.get()
    assert str(person.mdn) == stored
    assert Subscription.objects.get(person=person, subscription_list=deals).state == (
        SubscriptionState.SUBSCRIBED
    )


@pytest.mark.django_db
def test_a_number_outside_the_plan_still_finds_its_person(client):
    for event_id in ("evt-only-number-1", "evt-only-number-2"):
        body = callback_body("person_added", event_id=event_id)
        body["person"] = {"mobile_phone": {"mdn": TOO_SHORT_FOR_THE_PLAN}}

        event = deliver(client, body)

        assert event.status == CallbackStatus.PROCESSED, (event.error, event.notes)
    assert Person.objects.count() == 1
    assert selectors.person_find_by_mdn(TOO_SHORT_FOR_THE_PLAN) == Person.objects.get()
