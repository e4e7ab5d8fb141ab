"""Callback registrations and test events: every answer the client can get, judged by Vibes'
OpenAPI document."""

from __future__ import annotations

import pytest

from vibes_integration.errors import BadRequest, Conflict, NotFound, Unprocessable

URL = "https://crm.example.com/vibes/callbacks/"


def test_register_callbacks(contract):
    client = contract.client

    client.register_callback("person_added", url=URL)
    client.register_callback("subscription_added", url=URL, list_id="1001", method="PUT")
    client.register_callback(
        "ack_participant_added", url=URL, campaign_id="AC1001", content_type="text/json"
    )
    with pytest.raises(BadRequest):
        client.register_callback("subscription_removed", url=URL)
    with pytest.raises(Unprocessable):
        client.register_callback("subscription_removed", url=URL, list_id="9999")
    with pytest.raises(Conflict):
        client.register_callback("subscription_added", url=URL, list_id="1001")

    assert contract.check() == {
        ("POST", "/config/callbacks/", 201),
        ("POST", "/config/callbacks/", 400),
        ("POST", "/config/callbacks/", 422),
        ("POST", "/config/callbacks/", 409),
    }


def test_manage_callbacks(vibes_sandbox, contract):
    client = contract.client
    first = vibes_sandbox.client().register_callback(
        "subscription_removed", url=URL, list_id="1001"
    )
    vibes_sandbox.client().register_callback("subscription_removed", url=URL, list_id="1002")
    callback_id = first["callback_id"]

    client.list_callbacks()
    client.update_callback(
        callback_id, callback_type="subscription_removed", url=f"{URL}v2/", list_id="1003"
    )
    with pytest.raises(Conflict):
        client.update_callback(
            callback_id, callback_type="subscription_removed", url=URL, list_id="1002"
        )
    with pytest.raises(BadRequest):
        client.update_callback(callback_id, callback_type="subscription_removed", url=URL)
    with pytest.raises(NotFound):
        client.update_callback("999", callback_type="person_added", url=URL)
    client.delete_callback(callback_id)
    with pytest.raises(NotFound):
        client.delete_callback(callback_id)

    assert contract.check() == {
        ("GET", "/config/callbacks/", 200),
        ("PUT", "/config/callbacks/{callback_id}", 200),
        ("PUT", "/config/callbacks/{callback_id}", 409),
        ("PUT", "/config/callbacks/{callback_id}", 400),
        ("PUT", "/config/callbacks/{callback_id}", 404),
        ("DELETE", "/config/callbacks/{callback_id}", 200),
        ("DELETE", "/config/callbacks/{callback_id}", 404),
    }


def test_test_events(vibes_sandbox, contract, callback_receiver):
    client = contract.client
    setup = vibes_sandbox.client()
    setup.register_callback("subscription_added", url=callback_receiver.url, list_id="1002")
    setup.register_callback("person_updated", url=callback_receiver.url)
    setup.register_callback(
        "ack_participant_changed", url=callback_receiver.url, campaign_id="AC1001"
    )

    client.create_test_callback_event("subscription_added", list_id="1002")
    client.create_test_callback_event("person_updated")
    client.create_test_callback_event("ack_participant_changed", campaign_id="AC1001")
    with pytest.raises(BadRequest):
        client.create_test_callback_event("subscription_added")
    with pytest.raises(NotFound):
        client.create_test_callback_event("subscription_added", list_id="1001")
    with pytest.raises(NotFound):
        client.create_test_callback_event("person_added")
    vibes_sandbox.control.wait_for_deliveries()

    assert len(callback_receiver.bodies()) == 3
    assert contract.check() == {
        ("POST", "/config/callback_events/test", 201),
        ("POST", "/config/callback_events/test", 400),
        ("POST", "/config/callback_events/test", 404),
    }
