"""The control API: reset, seed, call log, faults, triggers, state dumps."""

from __future__ import annotations

import json

import pytest
import requests

from vibes_integration.sandbox.config import DEMO_CONFIG_PATH
from vibes_integration.sandbox.control import SandboxControlError

MDN = "+12015550171"


def test_reset_forgets_records_logs_registrations_and_faults(vibes_sandbox, callback_receiver):
    client = vibes_sandbox.client()
    client.register_callback("person_added", url=callback_receiver.url)
    client.add_person({"external_person_id": "r-1", "mobile_phone": {"mdn": MDN}})
    vibes_sandbox.control.phone_reply(MDN, "DEALS")
    vibes_sandbox.control.set_faults(duplicate_rate=0.5)
    vibes_sandbox.control.wait_for_deliveries()

    vibes_sandbox.control.reset()

    control = vibes_sandbox.control
    assert control.persons() == []
    assert control.subscriptions() == []
    assert control.callbacks() == []
    assert control.calls() == []
    assert control.deliveries() == []
    assert control.phone_messages() == []
    assert control.faults()["duplicate_rate"] == 0.0
    assert client.list_subscription_lists()[0]["id"] == "1001"


def test_seed_replaces_the_config(vibes_sandbox):
    config = json.loads(DEMO_CONFIG_PATH.read_text())
    config["company_key"] = "acme"
    config["credentials"] = [{"username": "acme", "password": "acme-secret"}]
    config["subscription_lists"] = config["subscription_lists"][:1]

    vibes_sandbox.control.seed(config)

    client = vibes_sandbox.client(company_key="acme", username="acme", password="acme-secret")
    assert [entry["id"] for entry in client.list_subscription_lists()] == ["1001"]
    assert vibes_sandbox.control.config()["company_key"] == "acme"


def test_seed_refuses_a_bad_config_and_keeps_the_old_one(vibes_sandbox):
    with pytest.raises(SandboxControlError, match="credentials"):
        vibes_sandbox.control.seed({"company_key": "acme", "credentials": []})

    assert vibes_sandbox.control.config()["company_key"] == "demo"


def test_calls_log_records_what_was_sent_and_answered(vibes_sandbox):
    client = vibes_sandbox.client()
    added = client.add_person({"external_person_id": "r-2", "custom_fields": {"zip_code": "1"}})
    client.find_person_by_mdn(MDN)

    first, second = vibes_sandbox.control.calls()
    assert first["id"] < second["id"]
    assert first["method"] == "POST"
    assert first["path"] == "/companies/demo/mobiledb/persons/"
    assert first["query"] == ""
    assert first["body"] == {"external_person_id": "r-2", "custom_fields": {"zip_code": "1"}}
    assert first["status"] == 201
    assert first["response"] == added.person
    assert first["headers"]["X-API-Version"] == "2"
    assert second["params"] == {"mdn": MDN}
    assert second["status"] == 404
    assert second["response"]["errors"][0]["message"] == "MDN not found."


def test_calls_since_and_clear(vibes_sandbox):
    client = vibes_sandbox.client()
    client.list_subscription_lists()
    last_id = vibes_sandbox.control.calls()[-1]["id"]
    client.get_subscription_list("1002")

    newer = vibes_sandbox.control.calls(since_id=last_id)
    vibes_sandbox.control.clear_calls()

    assert [call["path"] for call in newer] == ["/companies/demo/mobiledb/subscription_lists/1002"]
    assert vibes_sandbox.control.calls() == []


def test_control_calls_are_not_logged_and_need_no_credentials(vibes_sandbox):
    vibes_sandbox.control.persons()
    answer = requests.get(f"{vibes_sandbox.url}/_sandbox/", timeout=5)

    assert answer.status_code == 200
    assert answer.json()["company_key"] == "demo"
    assert vibes_sandbox.control.calls() == []


def test_set_faults_validates_every_knob(vibes_sandbox):
    with pytest.raises(SandboxControlError, match="unknown fault knob"):
        vibes_sandbox.control.set_faults(nonsense=1)
    with pytest.raises(SandboxControlError, match="duplicate_rate"):
        vibes_sandbox.control.set_faults(duplicate_rate=2)
    with pytest.raises(SandboxControlError, match="mdn_format"):
        vibes_sandbox.control.set_faults(mdn_format="dots")
    with pytest.raises(SandboxControlError, match="fail_next"):
        vibes_sandbox.control.set_faults(fail_next=["boom"])

    values = vibes_sandbox.control.set_faults(shuffle=True, delay_ms=5)
    assert values["shuffle"] is True
    assert values["delay_ms"] == 5
    assert vibes_sandbox.control.faults()["duplicate_rate"] == 0.0


def test_fail_next_answers_the_given_statuses_in_order(vibes_sandbox, api):
    vibes_sandbox.control.set_faults(fail_next=[503, 429])

    statuses = [api("GET", "/mobiledb/subscription_lists/").status_code for _ in range(3)]

    assert statuses == [503, 429, 200]


def test_api_failure_rate(vibes_sandbox, api):
    vibes_sandbox.control.set_faults(api_failure_rate=1.0)

    answer = api("GET", "/mobiledb/subscription_lists/")

    assert answer.status_code == 500
    assert answer.json()["errors"][0]["code"] == 500


def test_trigger_builds_events_from_the_records(vibes_sandbox, callback_receiver):
    client = vibes_sandbox.client()
    client.register_callback("subscription_removed", url=callback_receiver.url, list_id="1002")
    client.add_person({"external_person_id": "r-3", "mobile_phone": {"mdn": MDN}})

    queued = vibes_sandbox.control.trigger(
        "subscription_removed",
        external_person_id="r-3",
        list_id="1002",
        opt_out_reason="disconnect",
        event_id="evt-fixed-1",
        event_date="2024-01-02T03:04:05Z",
    )
    vibes_sandbox.control.wait_for_deliveries()

    [body] = callback_receiver.bodies()
    assert queued["event_id"] == body["event_id"] == "evt-fixed-1"
    assert body["event_date"] == "2024-01-02T03:04:05Z"
    assert body["subscription"]["opt_out_reason"] == "disconnect"
    assert body["subscription"]["subscription_list"]["id"] == "1002"
    assert body["subscription"]["person"]["external_id"] == "r-3"
    # Triggering announces; it does not change the sandbox's records.
    assert vibes_sandbox.control.subscriptions() == []


def test_trigger_sends_a_given_body_as_is(vibes_sandbox, callback_receiver):
    client = vibes_sandbox.client()
    client.register_callback("device_added", url=callback_receiver.url)

    vibes_sandbox.control.trigger("device_added", device={"vibes_device_id": "d-1"})
    vibes_sandbox.control.wait_for_deliveries()

    [body] = callback_receiver.bodies()
    assert body["device"] == {"vibes_device_id": "d-1"}
    assert body["callback_type"] == "device_added"


def test_trigger_needs_a_registration_and_a_known_person(vibes_sandbox, callback_receiver):
    with pytest.raises(SandboxControlError, match="no person_added callback is registered"):
        vibes_sandbox.control.trigger("person_added", device={})
    client = vibes_sandbox.client()
    client.register_callback("person_updated", url=callback_receiver.url)
    with pytest.raises(SandboxControlError, match="no such person"):
        vibes_sandbox.control.trigger("person_updated", mdn=MDN)


def test_upsert_list_announces_catalogue_changes(vibes_sandbox, callback_receiver):
    client = vibes_sandbox.client()
    client.register_callback("subscription_list_added", url=callback_receiver.url)
    client.register_callback("subscription_list_updated", url=callback_receiver.url)

    vibes_sandbox.control.upsert_list(id="1004", name="Clearance", keyword="CLEAR")
    vibes_sandbox.control.upsert_list(id="1001", name="Deals and offers")
    vibes_sandbox.control.wait_for_deliveries()

    added, updated = callback_receiver.bodies()
    assert added["callback_type"] == "subscription_list_added"
    assert added["subscription_list"]["id"] == "1004"
    assert updated["subscription_list"]["name"] == "Deals and offers"
    assert client.get_subscription_list("1004")["name"] == "Clearance"
    assert vibes_sandbox.control.phone_reply(MDN, "CLEAR")["list_id"] == "1004"


def test_state_dumps(vibes_sandbox):
    client = vibes_sandbox.client()
    client.add_participant("AC1001", mdn=MDN, external_person_id="r-4")
    vibes_sandbox.control.phone_reply(MDN, "Y")

    [person] = vibes_sandbox.control.persons()
    [subscription] = vibes_sandbox.control.subscriptions()
    [participant] = vibes_sandbox.control.participants()
    assert person["mdn"] == MDN and person["external_person_id"] == "r-4"
    assert subscription["mdn"] == MDN
    assert subscription["external_person_id"] == "r-4"
    assert subscription["active"] is True
    assert participant["status"] == "CONFIRMED"


def test_phone_messages_of_one_number_or_all(vibes_sandbox):
    vibes_sandbox.control.phone_reply(MDN, "DEALS")
    vibes_sandbox.control.phone_reply("+12015550172", "HELP")

    mine = vibes_sandbox.control.phone_messages(MDN)
    everyone = vibes_sandbox.control.phone_messages()

    assert [message["direction"] for message in mine] == ["in", "out"]
    assert {message["mdn"] for message in everyone} == {MDN, "+12015550172"}
    assert vibes_sandbox.control.phone_messages("2015550171") == mine


def test_phone_reply_refuses_a_bad_number(vibes_sandbox):
    with pytest.raises(SandboxControlError, match="not a valid mobile number"):
        vibes_sandbox.control.phone_reply("12", "Y")


def test_unknown_control_endpoint(vibes_sandbox):
    answer = requests.get(f"{vibes_sandbox.url}/_sandbox/nothing-here", timeout=5)

    assert answer.status_code == 404
    assert "no control endpoint" in answer.json()["error"]


def test_bad_requests_get_clear_answers(vibes_sandbox):
    wait = requests.get(f"{vibes_sandbox.url}/_sandbox/deliveries/wait?timeout=soon", timeout=5)
    not_json = requests.post(f"{vibes_sandbox.url}/_sandbox/faults", data=b"{", timeout=5)
    since = requests.get(f"{vibes_sandbox.url}/_sandbox/calls?since_id=x", timeout=5)

    assert (wait.status_code, wait.json()["error"]) == (400, "timeout must be a number of seconds")
    assert not_json.status_code == 400
    assert "not valid JSON" in not_json.json()["error"]
    assert since.json()["error"] == "since_id must be a whole number"
