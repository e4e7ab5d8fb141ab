"""Callback registration rules and delivery: method, content type, body, retries, faults."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.sandbox import contract_variants
from vibes_integration.sandbox.control import SandboxControlError

MDN = "+12015550161"


@pytest.fixture
def client(vibes_sandbox):
    return vibes_sandbox.client()


def _keyword_subscription(vibes_sandbox, keyword: str = "DEALS", mdn: str = MDN) -> None:
    vibes_sandbox.control.phone_reply(mdn, keyword)
    vibes_sandbox.control.wait_for_deliveries()


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("content_type", ["application/json", "text/json"])
def test_delivery_uses_the_registered_method_and_content_type(
    vibes_sandbox, client, callback_receiver, method, content_type
):
    client.register_callback(
        "subscription_added",
        url=callback_receiver.url,
        method=method,
        content_type=content_type,
        list_id="1001",
    )

    _keyword_subscription(vibes_sandbox)

    [request] = callback_receiver.requests
    assert request["method"] == method
    assert request["headers"]["Content-Type"] == content_type
    assert request["path"] == "/vibes/callbacks/"
    [delivery] = vibes_sandbox.control.deliveries()
    assert delivery["method"] == method
    assert delivery["content_type"] == content_type
    assert delivery["status"] == 200
    assert delivery["attempt"] == 1
    assert delivery["outcome"] == "delivered"
    assert delivery["type"] == "subscription_added"
    assert delivery["event_id"] == request["body"]["event_id"]


def test_every_body_carries_the_documented_envelope(vibes_sandbox, client, callback_receiver):
    registered = client.register_callback(
        "subscription_added", url=callback_receiver.url, list_id="1001"
    )

    _keyword_subscription(vibes_sandbox)

    [body] = callback_receiver.bodies()
    assert body["callback_id"] == registered["callback_id"]
    assert body["callback_type"] == body["event_type"] == "subscription_added"
    assert body["delivery_attempt"] == "1"
    assert body["event_date"].endswith("Z")
    assert len(body["event_id"]) >= 16
    subscription = body["subscription"]
    assert set(subscription) == {
        "person",
        "subscription_list",
        "opt_in_date",
        "acquisition_campaign",
        "url",
    }
    assert subscription["url"].startswith("/companies/demo/mobiledb/persons/")


def test_person_callbacks_carry_the_complete_person(vibes_sandbox, client, callback_receiver):
    client.register_callback("person_added", url=callback_receiver.url)
    client.register_callback("person_updated", url=callback_receiver.url)
    person = client.add_person(
        {
            "external_person_id": "cb-1",
            "mobile_phone": {"mdn": MDN},
            "custom_fields": {"first_name": "Ada", "interests": ["hiking", "camping"]},
        }
    ).person
    client.update_person(person["person_key"], {"custom_fields": {"zip_code": "98101"}})
    client.update_person(person["person_key"], {"custom_fields": {"zip_code": "98101"}})
    vibes_sandbox.control.wait_for_deliveries()

    added, updated = callback_receiver.bodies()
    assert added["callback_type"] == "person_added"
    assert updated["callback_type"] == "person_updated"
    state = updated["person"]
    assert state["person_key"] == person["person_key"]
    assert state["external_person_id"] == "cb-1"
    assert state["mobile_phone"] == {"mdn": MDN, "carrier_code": "104"}
    assert state["custom_fields"] == {
        "first_name": "Ada",
        "interests": [
            {"id": "1", "name": "Hiking", "option_key": "hiking"},
            {"id": "3", "name": "Camping", "option_key": "camping"},
        ],
        "zip_code": "98101",
    }
    assert state["timezone"] == "America/New_York"
    assert {"created_at", "updated_at", "url", "person_id"} <= set(state)


def test_a_list_filter_limits_subscription_callbacks(vibes_sandbox, client, callback_receiver):
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1003")

    _keyword_subscription(vibes_sandbox, "DEALS")
    _keyword_subscription(vibes_sandbox, "EVENTS")

    lists = [body["subscription"]["subscription_list"]["id"] for body in callback_receiver.bodies()]
    assert lists == ["1003"]


def test_a_campaign_filter_limits_participant_callbacks(vibes_sandbox, client, callback_receiver):
    client.register_callback(
        "ack_participant_added", url=callback_receiver.url, campaign_id="AC1002"
    )

    client.add_participant("AC1001", mdn=MDN)
    client.add_participant("AC1002", mdn=MDN)
    vibes_sandbox.control.wait_for_deliveries()

    campaigns = [
        body["participant"]["acquisition_campaign"]["id"] for body in callback_receiver.bodies()
    ]
    assert campaigns == ["AC1002"]


def test_filters_must_name_known_lists_and_campaigns(api):
    answer = api(
        "POST",
        "/config/callbacks/",
        json={
            "callback_type": "subscription_added",
            "destination": {"url": "https://crm.example.com/cb"},
            "subscription_added": {"list_id": "9999"},
        },
    )

    assert answer.status_code == 422


@pytest.mark.parametrize("failure", [500, 503, 302, "hang"])
def test_retries_with_a_rising_delivery_attempt(vibes_sandbox, client, callback_receiver, failure):
    vibes_sandbox.control.set_faults(delivery_timeout_ms=200)
    callback_receiver.hang_seconds = 0.5
    callback_receiver.statuses = [failure, failure]
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1001")

    _keyword_subscription(vibes_sandbox)

    bodies = callback_receiver.bodies()
    assert [body["delivery_attempt"] for body in bodies] == ["1", "2", "3"]
    assert len({body["event_id"] for body in bodies}) == 1
    outcomes = [(d["attempt"], d["outcome"]) for d in vibes_sandbox.control.deliveries()]
    assert outcomes == [(1, "retry"), (2, "retry"), (3, "delivered")]
    if failure == "hang":
        assert vibes_sandbox.control.deliveries()[0]["status"] is None
        assert "Timeout" in vibes_sandbox.control.deliveries()[0]["error"]
    else:
        assert vibes_sandbox.control.deliveries()[0]["status"] == failure


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_a_4xx_answer_is_final(vibes_sandbox, client, callback_receiver, status):
    callback_receiver.statuses = [status]
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1001")

    _keyword_subscription(vibes_sandbox)

    assert len(callback_receiver.requests) == 1
    [delivery] = vibes_sandbox.control.deliveries()
    assert (delivery["status"], delivery["outcome"]) == (status, "rejected")


def test_gives_up_after_max_attempts(vibes_sandbox, client, callback_receiver):
    vibes_sandbox.control.set_faults(max_attempts=3)
    callback_receiver.default_status = 500
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1001")

    _keyword_subscription(vibes_sandbox)

    assert len(callback_receiver.requests) == 3
    outcomes = [d["outcome"] for d in vibes_sandbox.control.deliveries()]
    assert outcomes == ["retry", "retry", "gave_up"]


def test_an_unreachable_destination_is_retried(vibes_sandbox, client, free_tcp_port):
    vibes_sandbox.control.set_faults(max_attempts=2)
    client.register_callback(
        "subscription_added", url=f"http://127.0.0.1:{free_tcp_port}/cb", list_id="1001"
    )

    _keyword_subscription(vibes_sandbox)

    deliveries = vibes_sandbox.control.deliveries()
    assert [(d["attempt"], d["outcome"]) for d in deliveries] == [(1, "retry"), (2, "gave_up")]
    assert "ConnectionError" in deliveries[0]["error"]


def test_duplicate_rate_delivers_the_same_event_again(vibes_sandbox, client, callback_receiver):
    vibes_sandbox.control.set_faults(duplicate_rate=1.0)
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1001")

    _keyword_subscription(vibes_sandbox)

    first, again = callback_receiver.bodies()
    assert first["event_id"] == again["event_id"]
    assert (first["delivery_attempt"], again["delivery_attempt"]) == ("1", "2")
    assert [d["duplicate"] for d in vibes_sandbox.control.deliveries()] == [False, True]


def test_failure_rate_loses_attempts_before_they_arrive(vibes_sandbox, client, callback_receiver):
    vibes_sandbox.control.set_faults(failure_rate=1.0, max_attempts=2)
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1001")

    _keyword_subscription(vibes_sandbox)

    assert callback_receiver.requests == []
    deliveries = vibes_sandbox.control.deliveries()
    assert [d["outcome"] for d in deliveries] == ["retry", "gave_up"]
    assert all(d["error"].startswith("simulated failure") for d in deliveries)


def test_shuffle_delivers_out_of_order(vibes_sandbox, client, callback_receiver):
    vibes_sandbox.control.set_faults(shuffle=True, shuffle_window_ms=300, seed=7)
    client.register_callback("person_added", url=callback_receiver.url)

    for index in range(12):
        client.add_person({"external_person_id": f"order-{index:02d}"})
    vibes_sandbox.control.wait_for_deliveries()

    received = [body["person"]["external_person_id"] for body in callback_receiver.bodies()]
    assert sorted(received) == [f"order-{index:02d}" for index in range(12)]
    assert received != sorted(received)


def test_without_shuffle_events_arrive_in_order(vibes_sandbox, client, callback_receiver):
    client.register_callback("person_added", url=callback_receiver.url)

    for index in range(12):
        client.add_person({"external_person_id": f"order-{index:02d}"})
    vibes_sandbox.control.wait_for_deliveries()

    received = [body["person"]["external_person_id"] for body in callback_receiver.bodies()]
    assert received == sorted(received)


def test_delay_holds_events_back(vibes_sandbox, client, callback_receiver):
    vibes_sandbox.control.set_faults(delay_ms=1000)
    client.register_callback("person_added", url=callback_receiver.url)

    client.add_person({"external_person_id": "late"})

    assert callback_receiver.requests == []
    assert vibes_sandbox.server.sandbox.delivery.pending() == 1
    vibes_sandbox.control.wait_for_deliveries()
    assert len(callback_receiver.requests) == 1


def test_mdn_format_national_spells_mdns_without_country_code(
    vibes_sandbox, client, callback_receiver
):
    vibes_sandbox.control.set_faults(mdn_format="national")
    client.register_callback("person_added", url=callback_receiver.url)

    client.add_person({"mobile_phone": {"mdn": MDN}})
    vibes_sandbox.control.wait_for_deliveries()

    assert callback_receiver.bodies()[0]["person"]["mobile_phone"]["mdn"] == "2015550161"


def test_a_version_1_registration_gets_national_mdns(vibes_sandbox, api, callback_receiver):
    api(
        "POST",
        "/config/callbacks/",
        json={"callback_type": "person_added", "destination": {"url": callback_receiver.url}},
        version="1",
    )

    vibes_sandbox.control.phone_reply(MDN, "DEALS")
    vibes_sandbox.control.wait_for_deliveries()

    assert callback_receiver.bodies()[0]["person"]["mobile_phone"]["mdn"] == "2015550161"


@pytest.mark.parametrize(
    ("date_format", "pattern"),
    [("offset", r"\+0000$"), ("minutes", r"T\d\d:\d\dZ$"), ("z", r":\d\dZ$")],
)
def test_date_format_knob_respells_timestamps(
    vibes_sandbox, client, callback_receiver, date_format, pattern
):
    vibes_sandbox.control.set_faults(date_format=date_format)
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1001")

    _keyword_subscription(vibes_sandbox)

    body = callback_receiver.bodies()[0]
    assert re.search(pattern, body["event_date"])
    assert re.search(pattern, body["subscription"]["opt_in_date"])


@pytest.mark.parametrize("sandbox_contract", contract_variants("callback_person"), indirect=True)
def test_the_contract_shapes_the_person_of_subscription_callbacks(
    vibes_sandbox, client, callback_receiver, sandbox_contract
):
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1001")

    _keyword_subscription(vibes_sandbox)

    [stored] = vibes_sandbox.control.persons()
    person = callback_receiver.bodies()[0]["subscription"]["person"]
    url = f"/companies/demo/mobiledb/persons/{stored['person_key']}"
    if sandbox_contract["callback_person"] == "legacy":
        assert person == {"id": str(stored["person_id"]), "external_id": None, "url": url}
    else:
        assert person == {
            "id": str(stored["person_id"]),
            "person_key": stored["person_key"],
            "external_id": None,
            "external_person_id": None,
            "mobile_phone": {"mdn": MDN},
            "url": url,
        }
    assert person["id"] != stored["person_key"]


def test_the_person_id_field_knob_is_gone_with_a_pointer_to_the_contract(vibes_sandbox):
    with pytest.raises(SandboxControlError, match="contract's callback_person"):
        vibes_sandbox.control.set_faults(person_id_field="person_key")


def test_unsubscribe_through_the_api_announces_api_opt_out(
    vibes_sandbox, client, callback_receiver
):
    client.register_callback("subscription_removed", url=callback_receiver.url, list_id="1001")
    _keyword_subscription(vibes_sandbox)
    person_key = client.find_person_by_mdn(MDN)["person_key"]

    client.unsubscribe(person_key, "1001")
    vibes_sandbox.control.wait_for_deliveries()

    [body] = callback_receiver.bodies()
    assert body["subscription"]["opt_out_reason"] == "api_opt_out"
