"""Web opt-in (Add Participant): every answer the client can get,
judged by Vibes' OpenAPI document."""

from __future__ import annotations

import json

import pytest

from vibes_integration.errors import BadRequest, Conflict, NotFound, Unprocessable
from vibes_integration.sandbox.config import DEMO_CONFIG_PATH

MDN = "+12015550231"
OTHER_MDN = "+12015550232"
LANDLINE = "+12015550239"

PARTICIPANTS = "/campaigns/acquisition/{acquisition_id}/participants"


@pytest.fixture
def single_opt_in(vibes_sandbox):
    """The demo config with AC1002 a single opt-in campaign and one landline."""
    config = json.loads(DEMO_CONFIG_PATH.read_text())
    config["subscription_lists"][1]["acquisition_campaigns"][0]["opt_in"] = "single"
    config["landline_mdns"] = [LANDLINE]
    vibes_sandbox.control.seed(config)


def test_add_participant(vibes_sandbox, contract, single_opt_in):
    client = contract.client
    vibes_sandbox.client().add_person({"external_person_id": "o-1", "mobile_phone": {"mdn": MDN}})

    pending = client.add_participant("AC1001", mdn=MDN, external_person_id="o-1")
    again = client.add_participant("AC1001", mdn=MDN, external_person_id="o-1")
    subscribed = client.add_participant("AC1002", mdn=OTHER_MDN, custom_fields={"zip_code": "1"})
    with pytest.raises(Conflict):
        client.add_participant("AC1002", mdn=OTHER_MDN)
    with pytest.raises(BadRequest):
        client.add_participant("AC1001", mdn="+1555")
    with pytest.raises(Unprocessable):
        client.add_participant("AC1003", mdn=OTHER_MDN, external_person_id="o-1")
    with pytest.raises(Unprocessable):
        client.add_participant("AC1001", mdn=LANDLINE)
    with pytest.raises(Unprocessable):
        client.add_participant("AC1003", mdn=MDN, custom_fields={"pet": "cat"})
    vibes_sandbox.control.phone_reply(MDN, "N")
    with pytest.raises(Unprocessable):
        client.add_participant("AC1001", mdn=MDN)
    with pytest.raises(NotFound):
        client.add_participant("AC9999", mdn=MDN)

    assert (pending.http_status, pending.status) == (201, "PENDING")
    assert (again.http_status, again.status) == (200, "PENDING")
    assert (subscribed.http_status, subscribed.status) == (201, "SUBSCRIBED")
    assert contract.check() == {
        ("POST", PARTICIPANTS, 201),
        ("POST", PARTICIPANTS, 200),
        ("POST", PARTICIPANTS, 409),
        ("POST", PARTICIPANTS, 400),
        ("POST", PARTICIPANTS, 422),
        ("POST", PARTICIPANTS, 404),
    }
