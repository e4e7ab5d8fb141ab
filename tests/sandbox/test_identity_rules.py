"""Who a person is in Vibes: person_key, the deprecated numeric person_id, the CRM's external
id (which keyword and landing-page subscribers do not have), and the rules of the number."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import register_all
from vibes_integration.errors import Conflict, NotFound, Unprocessable

MDN = "+12015550121"
NEW_MDN = "+12015550122"


@pytest.fixture
def client(vibes_sandbox, callback_receiver):
    client = vibes_sandbox.client()
    register_all(client, callback_receiver.url)
    return client


def _keyword_person(vibes_sandbox, client, mdn: str = MDN) -> dict:
    vibes_sandbox.control.phone_reply(mdn, "DEALS")
    vibes_sandbox.control.wait_for_deliveries()
    return client.find_person_by_mdn(mdn)


def test_a_keyword_subscriber_has_no_external_id_anywhere(vibes_sandbox, client, callback_receiver):
    person = _keyword_person(vibes_sandbox, client)

    assert "external_person_id" not in person
    added = callback_receiver.bodies("person_added")[0]["person"]
    assert added["external_person_id"] is None
    reference = callback_receiver.bodies("subscription_added")[0]["subscription"]["person"]
    assert reference["external_id"] is None
    assert reference["external_person_id"] is None


def test_a_landing_page_subscriber_has_no_external_id(
    vibes_sandbox, client, callback_receiver, api
):
    signed_up = vibes_sandbox.control.landing_page(MDN, "AC1002")
    vibes_sandbox.control.phone_reply(MDN, "Y")
    vibes_sandbox.control.wait_for_deliveries()

    assert (signed_up["status"], signed_up["answer"]["status"]) == (201, "PENDING")
    person = client.find_person_by_mdn(MDN)
    assert "external_person_id" not in person
    [subscription] = api(
        "GET", f"/mobiledb/persons/{person['person_key']}/subscriptions/1002"
    ).json()
    assert "opt_out_date" not in subscription
    reference = callback_receiver.bodies("subscription_added")[0]["subscription"]["person"]
    assert reference["person_key"] == person["person_key"]
    assert reference["external_id"] is None


def test_person_id_and_person_key_are_different_values_everywhere(
    vibes_sandbox, client, callback_receiver, api
):
    result = client.add_participant("AC1001", mdn=MDN, external_person_id="id-1")
    vibes_sandbox.control.phone_reply(MDN, "Y")
    vibes_sandbox.control.wait_for_deliveries()
    [stored] = vibes_sandbox.control.persons()
    person_id, person_key = str(stored["person_id"]), stored["person_key"]

    assert person_id != person_key
    assert (result.person["person_id"], result.person["person_key"]) == (person_id, person_key)
    for body in callback_receiver.bodies():
        if "person" in body:
            assert (body["person"]["person_id"], body["person"]["person_key"]) == (
                person_id,
                person_key,
            )
        else:
            key = "subscription" if "subscription" in body else "participant"
            reference = body[key]["person"]
            assert (reference["id"], reference["person_key"]) == (person_id, person_key)
    [subscription] = api("GET", f"/mobiledb/persons/{person_key}/subscriptions/1001").json()
    assert subscription["person"]["id"] == person_id
    assert subscription["person"]["url"].endswith(f"/mobiledb/persons/{person_key}")
    with pytest.raises(NotFound):
        client.get_person(person_id)


def test_every_call_by_an_external_id_vibes_does_not_know_is_404(vibes_sandbox, client, api):
    person = _keyword_person(vibes_sandbox, client)
    made_up = f"vibes-{person['person_key']}"

    calls = [
        lambda: client.get_person_by_external_id(made_up),
        lambda: client.list_subscriptions_by_external_id(made_up),
        lambda: client.update_person_by_external_id(made_up, {"custom_fields": {}}),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    one_list = f"/mobiledb/persons/external/{made_up}/subscriptions/1001"
    assert api("GET", one_list).status_code == 404
    assert client.unsubscribe_by_external_id(made_up, "1001") is False
    [subscription] = vibes_sandbox.control.subscriptions()
    assert subscription["active"] is True
    assert client.unsubscribe(person["person_key"], "1001") is True
    assert vibes_sandbox.control.subscriptions()[0]["active"] is False


def test_giving_a_keyword_subscriber_the_crms_id_by_person_key(vibes_sandbox, client):
    person = _keyword_person(vibes_sandbox, client)

    client.update_person(person["person_key"], {"external_person_id": "crm-7"})

    assert client.get_person_by_external_id("crm-7")["person_key"] == person["person_key"]
    assert client.unsubscribe_by_external_id("crm-7", "1001") is True


def test_external_person_id_null_unlinks_the_crms_id(vibes_sandbox, client):
    person = client.add_person({"external_person_id": "crm-8", "mobile_phone": {"mdn": MDN}})
    key = person.person["person_key"]

    client.update_person(
        key,
        {"external_person_id": None, "mobile_phone": {"mdn": None, "carrier_code": None}},
    )

    with pytest.raises(NotFound):
        client.get_person_by_external_id("crm-8")
    erased = client.get_person(key)
    assert "external_person_id" not in erased
    assert "mobile_phone" not in erased


def test_an_mdn_cannot_be_changed_only_removed(vibes_sandbox, client, api):
    person = client.add_person({"external_person_id": "n-1", "mobile_phone": {"mdn": MDN}})
    key = person.person["person_key"]

    changed = api("PUT", f"/mobiledb/persons/{key}", json={"mobile_phone": {"mdn": NEW_MDN}})
    removed = api("PUT", f"/mobiledb/persons/{key}", json={"mobile_phone": {"mdn": None}})

    assert (changed.status_code, changed.content) == (409, b"")
    assert removed.status_code == 201
    assert "mobile_phone" not in client.get_person(key)
    assert client.find_person_by_mdn(MDN) is None


def test_the_person_survives_a_change_of_number_through_the_web_flow(vibes_sandbox, client):
    person = client.add_person(
        {
            "external_person_id": "n-2",
            "mobile_phone": {"mdn": MDN},
            "custom_fields": {"first_name": "Ada"},
        }
    ).person
    client.update_person_by_external_id("n-2", {"mobile_phone": {"mdn": None}})

    result = client.add_participant("AC1001", mdn=NEW_MDN, external_person_id="n-2")
    vibes_sandbox.control.phone_reply(NEW_MDN, "Y")

    again = client.get_person_by_external_id("n-2")
    assert result.person_key == again["person_key"] == person["person_key"]
    assert again["mobile_phone"]["mdn"] == NEW_MDN
    assert again["custom_fields"] == {"first_name": "Ada"}
    assert client.find_person_by_mdn(MDN) is None
    assert [p["mdn"] for p in vibes_sandbox.control.persons()] == [NEW_MDN]


def test_one_active_number_per_person(vibes_sandbox, client):
    client.add_person({"external_person_id": "n-3", "mobile_phone": {"mdn": MDN}})

    with pytest.raises(Unprocessable) as mismatch:
        client.add_participant("AC1001", mdn=NEW_MDN, external_person_id="n-3")
    with pytest.raises(Conflict):
        client.update_person_by_external_id("n-3", {"mobile_phone": {"mdn": NEW_MDN}})

    assert mismatch.value.codes == ["EXTERNALPERSONIDMISMATCH"]
    assert [p["mdn"] for p in vibes_sandbox.control.persons()] == [MDN]


def test_an_external_id_of_another_persons_number_is_a_mismatch(vibes_sandbox, client):
    client.add_person({"external_person_id": "n-4", "mobile_phone": {"mdn": MDN}})
    client.add_person({"external_person_id": "n-5", "mobile_phone": {"mdn": NEW_MDN}})

    with pytest.raises(Unprocessable) as mismatch:
        client.add_participant("AC1001", mdn=NEW_MDN, external_person_id="n-4")

    assert mismatch.value.codes == ["EXTERNALPERSONIDMISMATCH"]
    assert vibes_sandbox.control.participants() == []
