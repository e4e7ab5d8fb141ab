"""A new number joins a list through Add Participant; every answer gets a clear state and a
sentence the subscriber can read."""

from __future__ import annotations

import copy

import pytest

from crm import services
from crm.choices import OptInStatus, Source, SubscriptionState
from crm.models import OptInRequest
from tests.fixtures.builders import make_person
from tests.sync.conftest import settle, vibes_calls
from vibes_integration.sandbox.config import DEMO_CONFIG_PATH, load_config
from vibes_integration.sync.choices import OperationKind, OperationStatus
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db

MDN = "+12015550141"


def opt_in(person, subscription_list, mdn=MDN) -> OptInRequest:
    [request] = services.opt_in_request(
        person=person,
        mdn=mdn,
        subscription_lists=[subscription_list],
        source=Source.PREFERENCE_CENTER,
    )
    settle()
    request.refresh_from_db()
    return request


def subscription_state(person, subscription_list) -> str:
    return person.subscriptions.get(subscription_list=subscription_list).state


def opt_in_operation() -> Operation:
    return Operation.objects.filter(kind=OperationKind.OPT_IN).latest("id")


def test_201_pending_shows_pending_until_the_subscriber_answers(vibes_sandbox, deals):
    person = make_person(first_name="Ada")
    request = opt_in(person, deals)
    [call] = vibes_calls(vibes_sandbox, path_part="/participants")
    assert call["path"].endswith("/campaigns/acquisition/AC1001/participants")
    assert call["body"] == {
        "mobile_phone": {"mdn": MDN},
        "external_person_id": person.external_person_id,
    }
    assert call["status"] == 201
    assert request.status == OptInStatus.PENDING
    assert request.expire_date is not None
    assert request.message == f"We texted {MDN}. Reply Y to that text to join Deals & offers."
    assert subscription_state(person, deals) == SubscriptionState.PENDING
    assert opt_in_operation().status == OperationStatus.DONE
    person.refresh_from_db()
    assert person.person_key  # Vibes made a person for the participant; it is linked
    assert not Operation.objects.filter(status=OperationStatus.PENDING).exists()


def test_200_already_pending_keeps_the_request_pending(vibes_sandbox, deals):
    person = make_person()
    settle()
    vibes_sandbox.client().add_participant(
        "AC1001", mdn=MDN, external_person_id=person.external_person_id
    )
    request = opt_in(person, deals)
    assert vibes_calls(vibes_sandbox, path_part="/participants")[-1]["status"] == 200
    assert request.status == OptInStatus.PENDING
    assert request.message.startswith(f"We already texted {MDN}.")
    assert subscription_state(person, deals) == SubscriptionState.PENDING


def test_201_subscribed_confirms_at_once(vibes_sandbox, deals):
    config = copy.deepcopy(load_config(DEMO_CONFIG_PATH))
    config["subscription_lists"][0]["acquisition_campaigns"][0]["opt_in"] = "single"
    vibes_sandbox.control.seed(config)
    person = make_person()
    request = opt_in(person, deals)
    assert request.status == OptInStatus.CONFIRMED
    assert request.message == f"{MDN} is now signed up to Deals & offers."
    person.refresh_from_db()
    assert str(person.mdn) == MDN
    assert subscription_state(person, deals) == SubscriptionState.SUBSCRIBED
    # The confirmation was recorded as Vibes' doing: nothing is sent back.
    assert not Operation.objects.filter(status=OperationStatus.PENDING).exists()


def test_409_already_subscribed_confirms(vibes_sandbox, deals):
    vibes_sandbox.control.phone_reply(MDN, "DEALS")  # joined by texting the keyword
    person = make_person(source=Source.VIBES)  # known from Vibes' callback, no number yet
    request = opt_in(person, deals)
    assert vibes_calls(vibes_sandbox, path_part="/participants")[-1]["status"] == 409
    assert request.status == OptInStatus.CONFIRMED
    assert request.message == f"{MDN} is already signed up to Deals & offers."
    assert subscription_state(person, deals) == SubscriptionState.SUBSCRIBED
    assert opt_in_operation().status == OperationStatus.DONE


def test_400_not_a_mobile_number_fails_with_a_plain_message(vibes_sandbox, deals):
    person = make_person()
    settle()
    vibes_sandbox.control.set_faults(fail_next=[400])
    request = opt_in(person, deals)
    assert request.status == OptInStatus.FAILED
    assert request.message == (
        f"{MDN} is not a mobile number we can text. Check the number and try again."
    )
    assert subscription_state(person, deals) == SubscriptionState.UNSUBSCRIBED
    operation = opt_in_operation()
    assert operation.status == OperationStatus.FAILED and operation.http_status == 400
    assert len(vibes_calls(vibes_sandbox, path_part="/participants")) == 1


def test_422_confirmation_block_tells_the_subscriber_to_text_the_keyword(vibes_sandbox, deals):
    person = make_person()
    first = opt_in(person, deals)
    vibes_sandbox.control.phone_reply(MDN, "N")  # said no: Vibes blocks the campaign
    services.opt_in_request_update(
        opt_in_request=first, status=OptInStatus.REJECTED, source=Source.VIBES
    )
    request = opt_in(person, deals)
    assert request.pk != first.pk
    assert request.status == OptInStatus.FAILED
    assert request.error_code == "MDNHASCONFIRMATIONBLOCK"
    assert request.message == (
        f"{MDN} said no to an earlier sign-up text, so we cannot text it from here. "
        "To join Deals & offers, text DEALS from that phone."
    )
    assert "MDNHASCONFIRMATIONBLOCK" in opt_in_operation().error


def test_422_landline_fails_with_a_plain_message(vibes_sandbox, deals):
    config = copy.deepcopy(load_config(DEMO_CONFIG_PATH))
    config["landline_mdns"] = [MDN]
    vibes_sandbox.control.seed(config)
    person = make_person()
    request = opt_in(person, deals)
    assert request.status == OptInStatus.FAILED
    assert request.error_code == "NOPROVISIONEDCARRIER"
    assert "landline" in request.message and "mobile number" in request.message


def test_422_external_id_mismatch_fails_with_a_plain_message(vibes_sandbox, deals):
    person = make_person()
    vibes_sandbox.client().add_person(
        {
            "external_person_id": person.external_person_id,
            "mobile_phone": {"mdn": "+12015550149"},
        }
    )
    other = make_person()
    vibes_sandbox.client().add_person(
        {"external_person_id": other.external_person_id, "mobile_phone": {"mdn": MDN}}
    )
    settle()
    request = opt_in(person, deals)
    assert request.status == OptInStatus.FAILED
    assert request.error_code == "EXTERNALPERSONIDMISMATCH"
    assert "already linked to another account" in request.message


def test_withdrawn_request_is_not_sent(vibes_sandbox, deals):
    person = make_person()
    services.opt_in_request(
        person=person, mdn=MDN, subscription_lists=[deals], source=Source.PREFERENCE_CENTER
    )
    services.subscription_leave(person=person, subscription_list=deals, source=Source.STAFF)
    settle()
    assert not vibes_calls(vibes_sandbox, path_part="/participants")
    assert opt_in_operation().status == OperationStatus.SKIPPED
