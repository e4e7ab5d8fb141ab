"""``POST /_sandbox/import`` and Search for subscriber, over real HTTP."""

from __future__ import annotations

import pytest

from vibes_integration.sandbox.control import SandboxControlError

SUBSCRIBED = "+12065550150"
LEFT = "+12065550151"


def _persons() -> list[dict]:
    return [
        {
            "person_key": "k-subscribed",
            "external_person_id": "crm-1",
            "mdn": SUBSCRIBED,
            "custom_fields": {"zip_code": "98101"},
            "subscriptions": [{"list_id": "1001", "opt_in_date": "2025-01-02T03:04:05Z"}],
            "participants": [{"list_id": "1002", "status": "PENDING"}],
        },
        {
            "person_key": "k-left",
            "mdn": LEFT,
            "subscriptions": [
                {
                    "list_id": "1001",
                    "opt_in_date": "2024-01-02T03:04:05Z",
                    "opt_out_date": "2024-06-01T00:00:00Z",
                    "opt_out_reason": "keyword_opt_out",
                }
            ],
        },
    ]


def test_imported_records_are_held_as_given_and_announced_to_nobody(
    vibes_sandbox, callback_receiver
):
    client = vibes_sandbox.client()
    client.register_callback("person_added", url=callback_receiver.url)
    client.register_callback("subscription_added", url=callback_receiver.url, list_id="1001")
    control = vibes_sandbox.control

    counts = control.import_records(_persons())
    again = control.import_records(_persons())

    assert counts == {"persons": 2, "existing": 0, "subscriptions": 2, "participants": 1}
    assert again["existing"] == 2 and again["persons"] == 0
    person = client.get_person_by_external_id("crm-1")
    assert person["person_key"] == "k-subscribed"
    assert person["custom_fields"]["zip_code"] == "98101"
    [record] = client.list_subscriptions("k-subscribed")
    assert record["opt_in_date"].startswith("2025-01-02")
    [pending] = [p for p in control.participants() if p["status"] == "PENDING"]
    assert (pending["mdn"], pending["list_id"]) == (SUBSCRIBED, "1002")
    control.wait_for_deliveries(timeout=5)
    assert control.deliveries() == []


def test_one_bad_entry_refuses_the_whole_import(vibes_sandbox):
    persons = _persons()
    persons[1]["subscriptions"][0]["list_id"] = "404"

    with pytest.raises(SandboxControlError, match=r"persons\[1\].subscriptions\[0\]"):
        vibes_sandbox.control.import_records(persons)

    assert vibes_sandbox.control.persons() == []


def test_search_for_subscriber_finds_only_the_subscribed(vibes_sandbox):
    vibes_sandbox.control.import_records(_persons())
    client = vibes_sandbox.client()

    assert client.search_subscriber("1001", mdn=SUBSCRIBED)["person_key"] == "k-subscribed"
    assert client.search_subscriber("1001", mdn=LEFT) is None
    assert client.search_subscriber("1002", mdn=SUBSCRIBED) is None
    assert client.search_subscriber("999", mdn=SUBSCRIBED) is None
