"""Web opt-in and the simulated phone: Y, N, STOP, keywords, expiry, and their callbacks."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import register_all

MDN = "+12015550151"


@pytest.fixture
def client(vibes_sandbox, callback_receiver):
    client = vibes_sandbox.client()
    register_all(client, callback_receiver.url)
    return client


def _types(receiver) -> list[str]:
    return [body["callback_type"] for body in receiver.bodies()]


def test_add_participant_texts_the_number_and_announces_the_request(
    vibes_sandbox, client, callback_receiver
):
    result = client.add_participant("AC1001", mdn=MDN, external_person_id="web-1")
    vibes_sandbox.control.wait_for_deliveries()

    [text] = vibes_sandbox.control.phone_messages(MDN)
    assert text["direction"] == "out"
    assert text["text"].startswith("Northwind Outfitters: Reply Y")
    assert "Deals & offers" in text["text"]
    assert _types(callback_receiver) == ["person_added", "ack_participant_added"]
    participant = callback_receiver.bodies("ack_participant_added")[0]["participant"]
    assert participant["status"] == "PENDING"
    assert participant["person"]["person_key"] == result.person_key
    assert participant["person"]["id"] == result.person["person_id"] != result.person_key
    assert participant["person"]["external_id"] == "web-1"
    assert participant["person"]["external_person_id"] == "web-1"
    assert participant["mobile_phone"] == {"mdn": MDN}
    assert participant["acquisition_campaign"]["id"] == "AC1001"
    assert participant["acquisition_campaign"]["keyword"] == "DEALS"
    assert participant["subscription_list"]["id"] == "1001"
    assert participant["expire_date"] == result.expire_date


def test_yes_confirms_and_subscribes(vibes_sandbox, client, callback_receiver):
    result = client.add_participant("AC1001", mdn=MDN, external_person_id="web-2")

    outcome = vibes_sandbox.control.phone_reply(MDN, "y")
    vibes_sandbox.control.wait_for_deliveries()

    assert outcome["action"] == "confirmed"
    assert _types(callback_receiver) == [
        "person_added",
        "ack_participant_added",
        "ack_participant_changed",
        "subscription_added",
    ]
    changed = callback_receiver.bodies("ack_participant_changed")[0]["participant"]
    assert changed["status"] == "CONFIRMED"
    added = callback_receiver.bodies("subscription_added")[0]["subscription"]
    assert added["person"] == {
        "id": result.person["person_id"],
        "person_key": result.person_key,
        "external_id": "web-2",
        "external_person_id": "web-2",
        "mobile_phone": {"mdn": MDN},
        "url": f"/companies/demo/mobiledb/persons/{result.person_key}",
    }
    assert added["subscription_list"]["id"] == "1001"
    assert added["acquisition_campaign"]["id"] == "AC1001"
    [subscription] = vibes_sandbox.control.subscriptions()
    assert subscription["active"] is True
    assert subscription["list_id"] == "1001"
    texts = [message["text"] for message in vibes_sandbox.control.phone_messages(MDN)]
    assert texts[1] == "y"
    assert "You're subscribed to Deals & offers" in texts[2]


def test_no_rejects_and_blocks_the_campaign_for_the_number(
    vibes_sandbox, client, callback_receiver
):
    client.add_participant("AC1001", mdn=MDN)

    outcome = vibes_sandbox.control.phone_reply(MDN, "N")
    vibes_sandbox.control.wait_for_deliveries()

    assert outcome["action"] == "rejected"
    assert _types(callback_receiver)[-1] == "ack_participant_changed"
    assert callback_receiver.bodies("ack_participant_changed")[0]["participant"]["status"] == (
        "REJECTED"
    )
    assert vibes_sandbox.control.subscriptions() == []
    [block] = vibes_sandbox.control.blocks()
    assert (block["mdn"], block["acquisition_id"]) == (MDN, "AC1001")
    # The block is per campaign; other campaigns still work, and the keyword still joins.
    assert client.add_participant("AC1002", mdn=MDN).status == "PENDING"
    assert vibes_sandbox.control.phone_reply(MDN, "DEALS")["action"] == "subscribed"


def test_stop_ends_every_subscription_as_user_opt_out(vibes_sandbox, client, callback_receiver):
    vibes_sandbox.control.phone_reply(MDN, "DEALS")
    vibes_sandbox.control.phone_reply(MDN, "EVENTS")

    outcome = vibes_sandbox.control.phone_reply(MDN, "STOP")
    vibes_sandbox.control.wait_for_deliveries()

    assert outcome["action"] == "stopped"
    assert sorted(outcome["lists"]) == ["1001", "1003"]
    removed = callback_receiver.bodies("subscription_removed")
    assert sorted(body["subscription"]["subscription_list"]["id"] for body in removed) == [
        "1001",
        "1003",
    ]
    for body in removed:
        assert body["subscription"]["opt_out_reason"] == "user_opt_out"
        assert body["subscription"]["opt_out_date"]
        assert body["subscription"]["opt_in_date"]
    assert all(not record["active"] for record in vibes_sandbox.control.subscriptions())


def test_a_keyword_from_an_unknown_number_creates_a_person_without_external_id(
    vibes_sandbox, client, callback_receiver
):
    outcome = vibes_sandbox.control.phone_reply(MDN, "orders")
    vibes_sandbox.control.wait_for_deliveries()

    assert outcome["action"] == "subscribed"
    assert _types(callback_receiver) == ["person_added", "subscription_added"]
    person = callback_receiver.bodies("person_added")[0]["person"]
    assert person["external_person_id"] is None
    assert person["mobile_phone"]["mdn"] == MDN
    subscription = callback_receiver.bodies("subscription_added")[0]["subscription"]
    assert subscription["subscription_list"]["id"] == "1002"
    assert subscription["person"]["person_key"] == person["person_key"]
    assert subscription["person"]["id"] == person["person_id"] != person["person_key"]
    assert subscription["person"]["external_id"] is None
    assert subscription["acquisition_campaign"]["id"] == "AC1002"
    assert client.find_person_by_mdn(MDN)["person_key"] == person["person_key"]


def test_a_keyword_when_already_subscribed_changes_nothing(vibes_sandbox, client):
    vibes_sandbox.control.phone_reply(MDN, "DEALS")

    outcome = vibes_sandbox.control.phone_reply(MDN, "DEALS")

    assert outcome["action"] == "already_subscribed"
    assert len(vibes_sandbox.control.subscriptions()) == 1


def test_subscribing_again_after_stop_makes_a_new_record(vibes_sandbox, client, api):
    vibes_sandbox.control.phone_reply(MDN, "DEALS")
    vibes_sandbox.control.phone_reply(MDN, "STOP")
    vibes_sandbox.control.phone_reply(MDN, "DEALS")

    person_key = client.find_person_by_mdn(MDN)["person_key"]
    history = api("GET", f"/mobiledb/persons/{person_key}/subscriptions/1001").json()
    assert [record.get("opt_out_reason") for record in history] == ["user_opt_out", None]


def test_yes_without_a_pending_request_changes_nothing(vibes_sandbox, client, callback_receiver):
    outcome = vibes_sandbox.control.phone_reply(MDN, "Y")
    vibes_sandbox.control.wait_for_deliveries()

    assert outcome["action"] == "nothing_pending"
    assert callback_receiver.bodies() == []


def test_an_expired_request_sends_nothing_and_can_be_made_again(
    vibes_sandbox, client, callback_receiver
):
    client.add_participant("AC1001", mdn=MDN)

    assert vibes_sandbox.control.expire_pending(MDN) == 1
    reply = vibes_sandbox.control.phone_reply(MDN, "Y")
    again = client.add_participant("AC1001", mdn=MDN)
    vibes_sandbox.control.wait_for_deliveries()

    assert reply["action"] == "nothing_pending"
    assert again.http_status == 201
    assert _types(callback_receiver) == [
        "person_added",
        "ack_participant_added",
        "ack_participant_added",
    ]
    statuses = [participant["status"] for participant in vibes_sandbox.control.participants()]
    assert statuses == ["EXPIRED", "PENDING"]


def test_a_pending_request_lapses_after_its_time(vibes_sandbox, client, api):
    config = vibes_sandbox.control.config()
    config["pending_ttl_seconds"] = 0
    vibes_sandbox.control.seed(config)

    first = client.add_participant("AC1001", mdn=MDN)
    second = client.add_participant("AC1001", mdn=MDN)

    assert (first.http_status, second.http_status) == (201, 201)
    pending = api("GET", "/campaigns/acquisition/AC1001/participants?mdn=%2B12015550151")
    assert pending.json() == []


def test_yes_answers_the_newest_pending_request(vibes_sandbox, client):
    client.add_participant("AC1001", mdn=MDN)
    client.add_participant("AC1003", mdn=MDN)

    vibes_sandbox.control.phone_reply(MDN, "Y")

    assert [record["list_id"] for record in vibes_sandbox.control.subscriptions()] == ["1003"]
    statuses = {p["acquisition_id"]: p["status"] for p in vibes_sandbox.control.participants()}
    assert statuses == {"AC1001": "PENDING", "AC1003": "CONFIRMED"}


def test_web_opt_in_gives_a_number_to_a_known_person_without_one(
    vibes_sandbox, client, callback_receiver
):
    client.add_person({"external_person_id": "web-3", "custom_fields": {"first_name": "Ada"}})

    result = client.add_participant("AC1001", mdn=MDN, external_person_id="web-3")
    vibes_sandbox.control.wait_for_deliveries()

    assert client.get_person_by_external_id("web-3")["mobile_phone"]["mdn"] == MDN
    assert result.person_key == client.get_person_by_external_id("web-3")["person_key"]
    assert _types(callback_receiver) == ["person_added", "person_updated", "ack_participant_added"]
    updated = callback_receiver.bodies("person_updated")[0]["person"]
    assert updated["mobile_phone"]["mdn"] == MDN
    assert updated["custom_fields"] == {"first_name": "Ada"}


def test_unknown_texts_get_help_and_an_unmatched_message_callback(
    vibes_sandbox, client, callback_receiver
):
    client.register_callback("unmatched_message_received", url=callback_receiver.url)

    outcome = vibes_sandbox.control.phone_reply(MDN, "what is this")
    vibes_sandbox.control.wait_for_deliveries()

    assert outcome["action"] == "unmatched"
    [body] = callback_receiver.bodies("unmatched_message_received")
    assert body["message"]["text"] == "what is this"
    assert vibes_sandbox.control.phone_messages(MDN)[-1]["text"].endswith("Reply HELP for help.")


def test_add_participant_by_person_id_uses_the_persons_number(vibes_sandbox, api):
    person = vibes_sandbox.client().add_person({"mobile_phone": {"mdn": MDN}}).person
    numeric_id = vibes_sandbox.control.persons()[0]["person_id"]

    by_key = api(
        "POST",
        "/campaigns/acquisition/AC1001/participants",
        json={"person_id": person["person_key"]},
    )
    by_number = api(
        "POST", "/campaigns/acquisition/AC1001/participants", json={"person_id": str(numeric_id)}
    )
    unknown = api("POST", "/campaigns/acquisition/AC1001/participants", json={"person_id": "x"})

    assert by_key.status_code == 201
    assert by_key.json()["person"]["person_key"] == person["person_key"]
    assert by_number.status_code == 200
    assert unknown.status_code == 404
    assert vibes_sandbox.control.participants()[0]["mdn"] == MDN
