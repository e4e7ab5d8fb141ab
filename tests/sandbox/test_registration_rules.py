"""Callback registrations as Vibes requires them: per list, per campaign, once per person type,
and each event delivered only through the registration of its list or campaign."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.sandbox import CallbackReceiver
from vibes_integration.errors import BadRequest, Conflict, NotFound, Unprocessable
from vibes_integration.sandbox.config import DEMO_CONFIG_PATH
from vibes_integration.sandbox.control import SandboxControlError

MDN = "+12015550131"
URL = "https://crm.example.com/vibes/callbacks/"


@pytest.fixture
def client(vibes_sandbox):
    return vibes_sandbox.client()


@pytest.fixture
def second_receiver():
    receiver = CallbackReceiver()
    yield receiver
    receiver.stop()


@pytest.mark.parametrize(
    ("callback_type", "message"),
    [
        ("subscription_added", "subscription_added.list_id is required"),
        ("subscription_removed", "subscription_removed.list_id is required"),
        ("ack_participant_added", "ack_participant_added.campaign_id is required"),
        ("ack_participant_changed", "ack_participant_changed.campaign_id is required"),
    ],
)
def test_subscription_and_acquisition_registrations_need_their_filter(
    client, vibes_sandbox, callback_type, message
):
    with pytest.raises(BadRequest) as refused:
        client.register_callback(callback_type, url=URL)

    assert message in refused.value.messages[0]
    assert vibes_sandbox.control.callbacks() == []


@pytest.mark.parametrize(
    ("callback_type", "filters", "message"),
    [
        ("subscription_added", {"list_id": "9999"}, "Unknown subscription list: 9999."),
        ("ack_participant_added", {"campaign_id": "AC9"}, "Unknown acquisition campaign: AC9."),
    ],
)
def test_a_filter_must_name_a_list_or_campaign_vibes_has(client, callback_type, filters, message):
    with pytest.raises(Unprocessable) as refused:
        client.register_callback(callback_type, url=URL, **filters)

    assert refused.value.messages == [message]


def test_one_registration_per_type_and_list(client, vibes_sandbox):
    client.register_callback("subscription_added", url=URL, list_id="1001")
    client.register_callback("subscription_added", url=URL, list_id="1002")
    client.register_callback("subscription_removed", url=URL, list_id="1001")

    with pytest.raises(Conflict) as refused:
        client.register_callback("subscription_added", url=f"{URL}other", list_id="1001")

    assert "already registered for list_id 1001" in refused.value.messages[0]
    filters = [(r["callback_type"], r["filter"]) for r in vibes_sandbox.control.callbacks()]
    assert filters == [
        ("subscription_added", {"list_id": "1001"}),
        ("subscription_added", {"list_id": "1002"}),
        ("subscription_removed", {"list_id": "1001"}),
    ]


def test_one_registration_per_type_and_campaign(client):
    client.register_callback("ack_participant_added", url=URL, campaign_id="AC1001")
    client.register_callback("ack_participant_added", url=URL, campaign_id="AC1002")

    with pytest.raises(Conflict):
        client.register_callback("ack_participant_added", url=URL, campaign_id="AC1002")


def test_person_callbacks_are_registered_once_per_type(client):
    client.register_callback("person_added", url=URL)
    client.register_callback("person_updated", url=URL)

    with pytest.raises(Conflict):
        client.register_callback("person_added", url=f"{URL}again")


def test_moving_a_registration_onto_a_list_that_has_one_is_refused(client):
    client.register_callback("subscription_added", url=URL, list_id="1001")
    second = client.register_callback("subscription_added", url=URL, list_id="1002")

    with pytest.raises(Conflict):
        client.update_callback(
            second["callback_id"], callback_type="subscription_added", url=URL, list_id="1001"
        )
    moved = client.update_callback(
        second["callback_id"], callback_type="subscription_added", url=URL, list_id="1003"
    )

    assert moved["subscription_added"] == {"list_id": "1003"}


def test_a_subscription_event_goes_only_through_its_lists_registration(
    vibes_sandbox, client, callback_receiver, second_receiver
):
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1001")
    client.register_callback("subscription_added", url=second_receiver.url, list_id="1002")

    vibes_sandbox.control.phone_reply(MDN, "DEALS")
    vibes_sandbox.control.phone_reply(MDN, "ORDERS")
    vibes_sandbox.control.phone_reply(MDN, "EVENTS")
    vibes_sandbox.control.wait_for_deliveries()

    first = [b["subscription"]["subscription_list"]["id"] for b in callback_receiver.bodies()]
    second = [b["subscription"]["subscription_list"]["id"] for b in second_receiver.bodies()]
    assert (first, second) == (["1001"], ["1002"])
    callback_ids = {
        r["subscription_added"]["list_id"]: r["callback_id"] for r in client.list_callbacks()
    }
    assert callback_receiver.bodies()[0]["callback_id"] == callback_ids["1001"]
    assert second_receiver.bodies()[0]["callback_id"] == callback_ids["1002"]


def test_an_acquisition_event_goes_only_through_its_campaigns_registration(
    vibes_sandbox, client, callback_receiver, second_receiver
):
    client.register_callback(
        "ack_participant_added", url=callback_receiver.url, campaign_id="AC1001"
    )
    client.register_callback("ack_participant_added", url=second_receiver.url, campaign_id="AC1002")

    client.add_participant("AC1001", mdn=MDN)
    client.add_participant("AC1002", mdn=MDN)
    client.add_participant("AC1003", mdn=MDN)
    vibes_sandbox.control.wait_for_deliveries()

    def campaigns(receiver):
        return [b["participant"]["acquisition_campaign"]["id"] for b in receiver.bodies()]

    assert (campaigns(callback_receiver), campaigns(second_receiver)) == (["AC1001"], ["AC1002"])


def test_a_test_event_needs_the_list_and_goes_to_its_registration(
    vibes_sandbox, client, callback_receiver
):
    registered = client.register_callback(
        "subscription_added", url=callback_receiver.url, list_id="1002"
    )

    with pytest.raises(BadRequest, match=r"subscription_added\.list_id is required"):
        client.create_test_callback_event("subscription_added")
    with pytest.raises(NotFound):
        client.create_test_callback_event("subscription_added", list_id="1001")
    answer = client.create_test_callback_event("subscription_added", list_id="1002")
    vibes_sandbox.control.wait_for_deliveries()

    [body] = callback_receiver.bodies()
    assert body["event_id"] == answer["event_id"]
    assert body["callback_id"] == registered["callback_id"]
    assert body["subscription"]["subscription_list"]["id"] == "1002"
    person = body["subscription"]["person"]
    assert person["id"] != person["person_key"]


def test_a_test_acquisition_event_needs_the_campaign(vibes_sandbox, client, callback_receiver):
    client.register_callback(
        "ack_participant_changed", url=callback_receiver.url, campaign_id="AC1003"
    )

    with pytest.raises(BadRequest, match=r"acquisition_campaign_changed\.campaign_id"):
        client.create_test_callback_event("ack_participant_changed")
    client.create_test_callback_event("ack_participant_changed", campaign_id="AC1003")
    vibes_sandbox.control.wait_for_deliveries()

    [body] = callback_receiver.bodies()
    assert body["participant"]["acquisition_campaign"]["id"] == "AC1003"
    assert body["participant"]["status"] == "CONFIRMED"


def test_a_trigger_names_the_list_it_has_no_registration_for(vibes_sandbox, client):
    client.register_callback("subscription_added", url=URL, list_id="1001")
    client.add_person({"external_person_id": "t-1", "mobile_phone": {"mdn": MDN}})

    with pytest.raises(
        SandboxControlError, match="no subscription_added callback is registered for list_id 1003"
    ):
        vibes_sandbox.control.trigger(
            "subscription_added", external_person_id="t-1", list_id="1003"
        )


def test_at_most_50_destination_urls_however_many_registrations(vibes_sandbox, client):
    config = json.loads(DEMO_CONFIG_PATH.read_text())
    config["subscription_lists"] = [
        {"id": str(2000 + n), "name": f"List {n}", "acquisition_campaigns": []} for n in range(60)
    ]
    config["rate_limit"] = None
    vibes_sandbox.control.seed(config)

    for n in range(60):
        client.register_callback("subscription_added", url=URL, list_id=str(2000 + n))
    for n in range(49):
        client.register_callback("subscription_removed", url=f"{URL}{n}/", list_id=str(2000 + n))
    with pytest.raises(Unprocessable, match="At most 50 destination URLs"):
        client.register_callback("subscription_removed", url=f"{URL}49/", list_id="2049")

    assert len(vibes_sandbox.control.callbacks()) == 109
