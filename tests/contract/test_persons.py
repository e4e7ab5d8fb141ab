"""Persons: every answer the client can get, in every reading of the contract, judged by
Vibes' OpenAPI document."""

from __future__ import annotations

import pytest

from tests.fixtures.sandbox import contract_variants
from vibes_integration.errors import Conflict, NotFound, RateLimited, Unprocessable

MDN = "+12015550211"
OTHER_MDN = "+12015550212"


def test_get_and_find_a_person(vibes_sandbox, contract):
    client = contract.client
    added = client.add_person(
        {
            "external_person_id": "k-1",
            "mobile_phone": {"mdn": MDN},
            "custom_fields": {
                "first_name": "Ada",
                "interests": ["hiking"],
                "birthday": "1950-12-01",
            },
        }
    )
    vibes_sandbox.control.phone_reply(OTHER_MDN, "DEALS")

    client.get_person(vibes_sandbox.control.persons()[0]["person_key"])
    client.get_person_by_external_id("k-1")
    client.find_person_by_mdn(MDN)
    client.find_person_by_mdn(OTHER_MDN)
    assert client.find_person_by_mdn("+12015550219") is None
    with pytest.raises(NotFound):
        client.get_person("no-such-key")
    with pytest.raises(NotFound):
        client.get_person_by_external_id("no-such-id")
    with pytest.raises(NotFound):
        client.get_person(str(vibes_sandbox.control.persons()[0]["person_id"]))

    assert added.created
    assert contract.check() >= {
        ("POST", "/mobiledb/persons/", 201),
        ("GET", "/mobiledb/persons/{person_key}", 200),
        ("GET", "/mobiledb/persons/{person_key}", 404),
        ("GET", "/mobiledb/persons/external/{external_person_id}", 200),
        ("GET", "/mobiledb/persons/external/{external_person_id}", 404),
        ("GET", "/mobiledb/persons", 200),
        ("GET", "/mobiledb/persons", 404),
    }


def test_find_by_a_malformed_mdn(contract):
    # The client always encodes the plus; sent raw it reads as a space: "Invalid MDN format".
    answer = contract.raw("GET", "/mobiledb/persons?mdn=+12015550211")

    assert answer.status_code == 400
    assert contract.check() == {("GET", "/mobiledb/persons", 400)}


@pytest.mark.parametrize("sandbox_contract", contract_variants("add_person_answer"), indirect=True)
def test_add_person(vibes_sandbox, contract, sandbox_contract):
    client = contract.client

    created = client.add_person({"mobile_phone": {"mdn": MDN}})
    merged = client.add_person({"external_person_id": "a-1", "mobile_phone": {"mdn": MDN}})
    client.add_person({"external_person_id": "a-2"})
    with pytest.raises(Conflict):
        client.add_person({"external_person_id": "a-3", "mobile_phone": {"mdn": MDN}})
    with pytest.raises(Unprocessable):
        client.add_person({"custom_fields": {"pet": "cat"}})
    with pytest.raises(Unprocessable):
        client.add_person({"mobile_phone": {"mdn": "12345"}})

    assert (created.created, merged.created) == (True, False)
    assert bool(created.person) is (sandbox_contract["add_person_answer"] == "created_body")
    assert contract.check() == {
        ("POST", "/mobiledb/persons/", 201),
        ("POST", "/mobiledb/persons/", 200),
        ("POST", "/mobiledb/persons/", 409),
        ("POST", "/mobiledb/persons/", 422),
    }


@pytest.mark.parametrize(
    "sandbox_contract",
    contract_variants("update_person_answer", "update_by_unknown_external_id"),
    indirect=True,
)
def test_update_person(vibes_sandbox, contract, sandbox_contract):
    client = contract.client
    vibes_sandbox.client().add_person(
        {
            "external_person_id": "u-1",
            "mobile_phone": {"mdn": MDN},
            "custom_fields": {"zip_code": "1"},
        }
    )
    key = vibes_sandbox.control.persons()[0]["person_key"]

    client.update_person(key, {"custom_fields": {"first_name": "Ada", "zip_code": None}})
    client.update_person_by_external_id("u-1", {"custom_fields": {"interests": ["camping"]}})
    with pytest.raises(Conflict):
        client.update_person(key, {"mobile_phone": {"mdn": OTHER_MDN}})
    with pytest.raises(Conflict):
        client.update_person_by_external_id("u-1", {"mobile_phone": {"mdn": OTHER_MDN}})
    with pytest.raises(Unprocessable):
        client.update_person(key, {"custom_fields": {"pet": "cat"}})
    with pytest.raises(NotFound):
        client.update_person("no-such-key", {"custom_fields": {"first_name": "X"}})
    # Erasure: the number, its carrier, every field and the CRM's id set to null.
    client.update_person(
        key,
        {
            "external_person_id": None,
            "mobile_phone": {"mdn": None, "carrier_code": None},
            "custom_fields": {"first_name": None, "interests": None},
        },
    )
    if sandbox_contract["update_by_unknown_external_id"] == "upsert":
        client.update_person_by_external_id("u-2", {"mobile_phone": {"mdn": OTHER_MDN}})
    else:
        with pytest.raises(NotFound):
            client.update_person_by_external_id("u-2", {"mobile_phone": {"mdn": OTHER_MDN}})

    success = 200 if sandbox_contract["update_person_answer"] == "ok_echo" else 201
    unknown = 404 if sandbox_contract["update_by_unknown_external_id"] == "not_found" else success
    assert contract.check() == {
        ("PUT", "/mobiledb/persons/{person_key}", success),
        ("PUT", "/mobiledb/persons/{person_key}", 409),
        ("PUT", "/mobiledb/persons/{person_key}", 422),
        ("PUT", "/mobiledb/persons/{person_key}", 404),
        ("PUT", "/mobiledb/persons/external/{external_person_id}", success),
        ("PUT", "/mobiledb/persons/external/{external_person_id}", 409),
        ("PUT", "/mobiledb/persons/external/{external_person_id}", unknown),
    }


def test_a_rate_limited_call(vibes_sandbox, contract):
    vibes_sandbox.control.set_faults(fail_next=[429])

    with pytest.raises(RateLimited):
        contract.client.get_person_by_external_id("r-1")

    assert contract.check() == {("GET", "/mobiledb/persons/external/{external_person_id}", 429)}
