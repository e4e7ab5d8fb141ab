"""Person operations against the sandbox: every success and every documented error."""

from __future__ import annotations

import pytest

from tests.fixtures.sandbox import contract_variants
from vibes_integration.errors import BadRequest, Conflict, NotFound, Unprocessable

MDN = "+12015550111"
OTHER_MDN = "+12015550112"


UPDATE_ANSWERS = contract_variants("update_person_answer")


@pytest.fixture
def client(vibes_sandbox):
    return vibes_sandbox.client()


def _answer_of_update(contract: dict, sent: dict) -> dict:
    """What Update Person answers in each documented reading: nothing (201), or the very
    body sent (200)."""
    return {} if contract["update_person_answer"] == "created_no_body" else sent


def test_add_person_creates_with_201(client):
    result = client.add_person(
        {
            "external_person_id": "crm-1",
            "mobile_phone": {"mdn": MDN},
            "custom_fields": {"first_name": "Ada", "shoe_size": 9},
        }
    )

    assert result.created is True
    person = result.person
    assert person["person_key"]
    assert person["external_person_id"] == "crm-1"
    assert person["mobile_phone"]["mdn"] == MDN
    assert person["custom_fields"] == {"first_name": "Ada", "shoe_size": 9}
    assert person["url"] == f"/companies/demo/mobiledb/persons/{person['person_key']}"


def test_add_person_with_a_known_mdn_merges_with_200(client):
    first = client.add_person(
        {"mobile_phone": {"mdn": MDN}, "custom_fields": {"zip_code": "98101"}}
    )

    merged = client.add_person(
        {
            "external_person_id": "crm-2",
            "mobile_phone": {"mdn": MDN},
            "custom_fields": {"first_name": "Grace"},
        }
    )

    assert merged.created is False
    assert merged.person["person_key"] == first.person["person_key"]
    assert merged.person["external_person_id"] == "crm-2"
    assert merged.person["custom_fields"] == {"zip_code": "98101", "first_name": "Grace"}


def test_add_person_conflicts_when_the_mdn_belongs_to_another_person(client):
    client.add_person({"external_person_id": "crm-3", "mobile_phone": {"mdn": MDN}})

    with pytest.raises(Conflict) as caught:
        client.add_person({"external_person_id": "crm-4", "mobile_phone": {"mdn": MDN}})

    assert caught.value.status == 409
    assert caught.value.messages == ["The MDN is already associated with another person record."]


def test_add_person_names_unknown_custom_fields(client):
    with pytest.raises(Unprocessable) as caught:
        client.add_person({"custom_fields": {"favourite_colour": "red", "pet": "cat"}})

    assert caught.value.status == 422
    assert caught.value.messages == [
        "Unknown custom field: favourite_colour",
        "Unknown custom field: pet",
    ]


def test_add_person_with_a_bad_mdn_is_unprocessable(client):
    with pytest.raises(Unprocessable) as caught:
        client.add_person({"mobile_phone": {"mdn": "2015550111"}})

    assert caught.value.status == 422
    assert "Invalid MDN format" in caught.value.messages[0]


def test_get_person_by_key_and_by_external_id(client):
    person = client.add_person({"external_person_id": "crm-5", "mobile_phone": {"mdn": MDN}}).person

    assert client.get_person(person["person_key"]) == person
    assert client.get_person_by_external_id("crm-5") == person


def test_get_person_not_found(client):
    with pytest.raises(NotFound) as caught:
        client.get_person("no-such-key")
    assert caught.value.status == 404
    assert caught.value.messages

    with pytest.raises(NotFound):
        client.get_person_by_external_id("no-such-id")


def test_find_person_by_mdn(client):
    person = client.add_person({"mobile_phone": {"mdn": MDN}}).person

    assert client.find_person_by_mdn(MDN) == person
    assert client.find_person_by_mdn(OTHER_MDN) is None


def test_find_person_by_a_malformed_mdn_is_a_bad_request(client):
    with pytest.raises(BadRequest):
        client.find_person_by_mdn("555")


@pytest.mark.parametrize("sandbox_contract", UPDATE_ANSWERS, indirect=True)
def test_update_person_changes_only_what_is_sent(client, sandbox_contract):
    person = client.add_person(
        {
            "external_person_id": "crm-6",
            "mobile_phone": {"mdn": MDN},
            "custom_fields": {"first_name": "Ada", "zip_code": "98101"},
        }
    ).person

    sent = {"custom_fields": {"first_name": "Augusta", "zip_code": None}}
    answer = client.update_person(person["person_key"], sent)

    assert answer == _answer_of_update(sandbox_contract, sent)
    stored = client.get_person(person["person_key"])
    assert stored["custom_fields"] == {"first_name": "Augusta"}
    assert stored["mobile_phone"]["mdn"] == MDN
    assert stored["external_person_id"] == "crm-6"


@pytest.mark.parametrize("sandbox_contract", UPDATE_ANSWERS, indirect=True)
def test_update_person_by_external_id(client, sandbox_contract):
    client.add_person({"external_person_id": "crm-7"})

    sent = {"custom_fields": {"interests": ["hiking", "camping"]}}
    answer = client.update_person_by_external_id("crm-7", sent)

    assert answer == _answer_of_update(sandbox_contract, sent)
    stored = client.get_person_by_external_id("crm-7")
    assert stored["custom_fields"] == {"interests": ["hiking", "camping"]}


def test_update_person_not_found_has_no_error_messages(client):
    with pytest.raises(NotFound) as caught:
        client.update_person("no-such-key", {"custom_fields": {"first_name": "X"}})
    assert caught.value.status == 404
    assert caught.value.errors == []

    with pytest.raises(NotFound):
        client.update_person_by_external_id("no-such-id", {})


def test_update_person_cannot_change_the_mdn(client):
    client.add_person({"external_person_id": "crm-8", "mobile_phone": {"mdn": MDN}})

    with pytest.raises(Conflict) as caught:
        client.update_person_by_external_id("crm-8", {"mobile_phone": {"mdn": OTHER_MDN}})

    assert caught.value.status == 409
    assert caught.value.body is None


def test_update_person_removes_the_mdn_with_null(client):
    client.add_person({"external_person_id": "crm-9", "mobile_phone": {"mdn": MDN}})

    client.update_person_by_external_id("crm-9", {"mobile_phone": {"mdn": None}})

    assert "mobile_phone" not in client.get_person_by_external_id("crm-9")
    assert client.find_person_by_mdn(MDN) is None


def test_update_person_names_unknown_custom_fields(client):
    person = client.add_person({"external_person_id": "crm-10"}).person

    with pytest.raises(Unprocessable) as caught:
        client.update_person(person["person_key"], {"custom_fields": {"nickname": "Ada"}})

    assert caught.value.messages == ["Unknown custom field: nickname"]


def test_update_person_by_external_id_names_unknown_custom_fields(client):
    client.add_person({"external_person_id": "crm-11"})

    with pytest.raises(Unprocessable) as caught:
        client.update_person_by_external_id("crm-11", {"custom_fields": {"nickname": "Ada"}})

    assert caught.value.codes == [422]


@pytest.mark.parametrize(
    "sandbox_contract", contract_variants("update_by_unknown_external_id"), indirect=True
)
def test_update_by_an_external_id_vibes_does_not_know(client, sandbox_contract):
    """The reason the sync never names a person by an external id Vibes may not know."""
    sent = {"external_person_id": "crm-unknown", "custom_fields": {"first_name": "Ada"}}
    if sandbox_contract["update_by_unknown_external_id"] == "not_found":
        with pytest.raises(NotFound):
            client.update_person_by_external_id("crm-unknown", sent)
        with pytest.raises(NotFound):
            client.get_person_by_external_id("crm-unknown")
    else:
        client.update_person_by_external_id("crm-unknown", sent)
        created = client.get_person_by_external_id("crm-unknown")
        assert created["custom_fields"] == {"first_name": "Ada"}


@pytest.mark.parametrize("sandbox_contract", contract_variants("add_person_answer"), indirect=True)
def test_add_person_may_answer_201_without_a_body(client, sandbox_contract):
    result = client.add_person({"external_person_id": "crm-20", "mobile_phone": {"mdn": MDN}})

    assert result.created is True
    if sandbox_contract["add_person_answer"] == "created_no_body":
        assert result.person == {}
    else:
        assert result.person["external_person_id"] == "crm-20"
    assert client.get_person_by_external_id("crm-20")["mobile_phone"]["mdn"] == MDN
