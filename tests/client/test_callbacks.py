"""Callback registration through the client, against the sandbox."""

from __future__ import annotations

import pytest

from vibes_integration.errors import BadRequest, Conflict, NotFound

URL = "https://crm.example.com/vibes/callbacks/secret-path/"


@pytest.fixture
def client(vibes_sandbox):
    return vibes_sandbox.client()


def test_register_callback(vibes_sandbox, client):
    registered = client.register_callback(
        "subscription_added", url=URL, method="PUT", content_type="text/json", list_id="1001"
    )

    assert registered["callback_id"]
    assert registered["callback_type"] == "subscription_added"
    assert registered["destination"] == {
        "url": URL,
        "method": "PUT",
        "content_type": "text/json",
    }
    assert registered["subscription_added"] == {"list_id": "1001"}
    assert vibes_sandbox.control.calls()[-1]["body"] == {
        "callback_type": "subscription_added",
        "destination": {"url": URL, "method": "PUT", "content_type": "text/json"},
        "subscription_added": {"list_id": "1001"},
    }
    assert vibes_sandbox.control.calls()[-1]["status"] == 201


def test_register_callback_with_a_campaign_filter(client):
    registered = client.register_callback("ack_participant_added", url=URL, campaign_id="AC1001")

    assert registered["ack_participant_added"] == {"campaign_id": "AC1001"}
    assert registered["destination"]["method"] == "POST"
    assert registered["destination"]["content_type"] == "application/json"


def test_register_a_second_callback_of_one_type_conflicts(client):
    client.register_callback("person_added", url=URL)

    with pytest.raises(Conflict):
        client.register_callback("person_added", url=URL + "other/")


def test_register_callback_with_a_bad_destination(client):
    with pytest.raises(BadRequest):
        client.register_callback("person_added", url="ftp://example.com/")
    with pytest.raises(BadRequest):
        client.register_callback("person_added", url=URL, method="GET")


def test_list_update_and_delete_callbacks(client):
    added = client.register_callback("subscription_removed", url=URL, list_id="1001")
    person = client.register_callback("person_updated", url=URL)

    assert [item["callback_id"] for item in client.list_callbacks()] == [
        added["callback_id"],
        person["callback_id"],
    ]
    updated = client.update_callback(
        added["callback_id"],
        callback_type="subscription_removed",
        url=URL + "v2/",
        method="PUT",
        list_id="1002",
    )
    assert updated["destination"]["url"] == URL + "v2/"
    assert updated["destination"]["method"] == "PUT"
    assert updated["subscription_removed"] == {"list_id": "1002"}

    deleted = client.delete_callback(added["callback_id"])
    assert deleted["callback_id"] == added["callback_id"]
    assert [item["callback_id"] for item in client.list_callbacks()] == [person["callback_id"]]


def test_unknown_callbacks_are_not_found(client):
    with pytest.raises(NotFound):
        client.update_callback("999", callback_type="person_added", url=URL)
    with pytest.raises(NotFound):
        client.delete_callback("999")


def test_create_test_callback_event(vibes_sandbox, client, callback_receiver):
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1002")

    answer = client.create_test_callback_event("subscription_added", list_id="1002")

    assert answer["event_id"]
    assert "subscription_added" in answer["message"]
    vibes_sandbox.control.wait_for_deliveries()
    [body] = callback_receiver.bodies()
    assert body["event_id"] == answer["event_id"]
    assert body["subscription"]["subscription_list"]["id"] == "1002"


def test_create_test_callback_event_without_registration(client):
    with pytest.raises(NotFound) as caught:
        client.create_test_callback_event("person_added")
    assert caught.value.messages == ["An active callback does not exist."]
