"""Add Participant through the client: every documented answer."""

from __future__ import annotations

import json

import pytest

from vibes_integration.errors import BadRequest, Conflict, NotFound, Unprocessable
from vibes_integration.sandbox.config import DEMO_CONFIG_PATH

MDN = "+12015550131"


@pytest.fixture
def client(vibes_sandbox):
    return vibes_sandbox.client()


def test_add_participant_starts_a_pending_request(vibes_sandbox, client):
    result = client.add_participant(
        "AC1001", mdn=MDN, external_person_id="web-1", custom_fields={"first_name": "Ada"}
    )

    assert result.http_status == 201
    assert result.status == "PENDING"
    assert result.is_pending and not result.is_subscribed
    assert result.person_key == result.person["person_key"]
    assert result.person["url"].endswith(result.person_key)
    assert result.expire_date > result.participation_date
    assert vibes_sandbox.control.calls()[-1]["body"] == {
        "mobile_phone": {"mdn": MDN},
        "external_person_id": "web-1",
        "custom_fields": {"first_name": "Ada"},
    }
    person = client.get_person(result.person_key)
    assert person["external_person_id"] == "web-1"
    assert person["custom_fields"] == {"first_name": "Ada"}


def test_add_participant_again_while_pending_answers_200(client):
    first = client.add_participant("AC1001", mdn=MDN)

    again = client.add_participant("AC1001", mdn=MDN)

    assert again.http_status == 200
    assert again.status == "PENDING"
    assert again.expire_date == first.expire_date


def test_add_participant_to_a_single_opt_in_campaign_subscribes(vibes_sandbox, client):
    config = json.loads(DEMO_CONFIG_PATH.read_text())
    config["subscription_lists"][1]["acquisition_campaigns"][0]["opt_in"] = "single"
    vibes_sandbox.control.seed(config)

    result = client.add_participant("AC1002", mdn=MDN, external_person_id="web-2")

    assert result.http_status == 201
    assert result.status == "SUBSCRIBED"
    assert result.is_subscribed
    assert [s["subscription_list"]["id"] for s in client.list_subscriptions(result.person_key)] == [
        "1002"
    ]


def test_add_participant_with_a_bad_number_is_a_bad_request(client):
    with pytest.raises(BadRequest) as caught:
        client.add_participant("AC1001", mdn="+1555")
    assert caught.value.messages == [
        "The supplied mobile number is not in proper mobile number format."
    ]


def test_add_participant_when_already_subscribed_conflicts(vibes_sandbox, client):
    vibes_sandbox.control.phone_reply(MDN, "DEALS")

    with pytest.raises(Conflict) as caught:
        client.add_participant("AC1001", mdn=MDN)
    assert caught.value.status == 409


def test_add_participant_after_the_number_said_no(vibes_sandbox, client):
    client.add_participant("AC1001", mdn=MDN)
    vibes_sandbox.control.phone_reply(MDN, "N")

    with pytest.raises(Unprocessable) as caught:
        client.add_participant("AC1001", mdn=MDN)

    assert caught.value.codes == ["MDNHASCONFIRMATIONBLOCK"]
    assert caught.value.has_code("mdnhasconfirmationblock")


def test_add_participant_with_an_external_id_of_someone_else(client):
    client.add_person({"external_person_id": "web-3", "mobile_phone": {"mdn": "+12015550132"}})

    with pytest.raises(Unprocessable) as caught:
        client.add_participant("AC1001", mdn=MDN, external_person_id="web-3")

    assert caught.value.codes == ["EXTERNALPERSONIDMISMATCH"]


def test_add_participant_with_a_landline(vibes_sandbox, client):
    config = json.loads(DEMO_CONFIG_PATH.read_text())
    config["landline_mdns"] = [MDN]
    vibes_sandbox.control.seed(config)

    with pytest.raises(Unprocessable) as caught:
        client.add_participant("AC1001", mdn=MDN)

    assert caught.value.codes == ["NOPROVISIONEDCARRIER"]


def test_add_participant_with_unknown_custom_fields(client):
    with pytest.raises(Unprocessable) as caught:
        client.add_participant("AC1001", mdn=MDN, custom_fields={"pet": "cat"})
    assert caught.value.messages == ["Unknown custom field: pet"]


def test_add_participant_to_an_unknown_campaign(client):
    with pytest.raises(NotFound):
        client.add_participant("AC9999", mdn=MDN)
