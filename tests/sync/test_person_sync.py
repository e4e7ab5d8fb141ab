"""Person changes reach Vibes through Update Person by the identifier Vibes knows, or Add
Person when Vibes knows no such person; every documented answer ends the same."""

from __future__ import annotations

import pytest

from crm import services
from crm.choices import Source
from tests.fixtures.builders import make_custom_field, make_person
from tests.fixtures.callbacks import make_demo_custom_fields
from tests.fixtures.sandbox import contract_variants
from tests.sync.conftest import settle, vibes_calls
from vibes_integration.sync.choices import OperationStatus, SyncStatus
from vibes_integration.sync.models import Operation
from vibes_integration.sync.selectors import person_sync_states

pytestmark = pytest.mark.django_db


def remote_person(sandbox, external_person_id):
    found = [p for p in sandbox.control.persons() if p["external_person_id"] == external_person_id]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("sandbox_contract", contract_variants("add_person_answer"), indirect=True)
def test_new_person_is_added_after_a_404_and_its_key_stored_without_echo(
    vibes_sandbox, sandbox_contract
):
    person = make_person(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    settle()
    calls = vibes_calls(vibes_sandbox)
    expected = [("GET", 404), ("POST", 201)]
    if sandbox_contract["add_person_answer"] == "created_no_body":
        expected.append(("GET", 200))  # the key of the new person is learned by a read
    assert [(c["method"], c["status"]) for c in calls] == expected
    assert calls[0]["path"].endswith(f"/mobiledb/persons/external/{person.external_person_id}")
    assert calls[1]["body"]["custom_fields"]["first_name"] == "Ada"
    remote = remote_person(vibes_sandbox, person.external_person_id)
    person.refresh_from_db()
    assert person.person_key == remote["person_key"]
    assert person.external_id_in_vibes is True
    assert remote["custom_fields"]["email"] == "ada@example.com"
    # Storing the key Vibes gave (source VIBES) queued nothing new.
    assert list(Operation.objects.values_list("status", flat=True)) == [OperationStatus.DONE]
    assert person_sync_states([person.pk])[person.pk].status == SyncStatus.IN_SYNC


UPDATE_ANSWERS = contract_variants("update_person_answer")


@pytest.mark.parametrize("sandbox_contract", UPDATE_ANSWERS, indirect=True)
def test_known_person_gets_one_update_with_names_and_synced_custom_fields(
    vibes_sandbox, sandbox_contract
):
    make_demo_custom_fields()
    person = make_person(first_name="Ada", custom_fields={"zip_code": "98101"})
    settle()
    vibes_sandbox.control.clear_calls()
    services.person_update(
        person=person,
        source=Source.PREFERENCE_CENTER,
        last_name="Byron",
        custom_fields={"birthday": "1815-12-10", "interests": ["hiking", "paddling"]},
    )
    services.person_update(
        person=person, source=Source.PREFERENCE_CENTER, custom_fields={"internal_score": 9}
    )
    settle()
    [call] = vibes_calls(vibes_sandbox)
    assert call["path"].endswith(f"/mobiledb/persons/external/{person.external_person_id}")
    status = 201 if sandbox_contract["update_person_answer"] == "created_no_body" else 200
    assert (call["method"], call["status"]) == ("PUT", status)
    assert Operation.objects.latest("id").status == OperationStatus.DONE
    sent = call["body"]["custom_fields"]
    assert sent["last_name"] == "Byron"
    assert sent["birthday"] == "1815-12-10T00:00:00Z"
    assert sent["interests"] == ["hiking", "paddling"]
    assert "internal_score" not in sent  # not synced to Vibes
    remote = remote_person(vibes_sandbox, person.external_person_id)
    assert remote["custom_fields"]["zip_code"] == "98101"
    assert remote["custom_fields"]["last_name"] == "Byron"


def test_cleared_value_is_cleared_in_vibes(vibes_sandbox):
    make_demo_custom_fields()
    person = make_person(first_name="Ada", email="ada@example.com", custom_fields={"zip_code": "1"})
    settle()
    services.person_update(
        person=person, source=Source.STAFF, email="", custom_fields={"zip_code": None}
    )
    settle()
    remote = remote_person(vibes_sandbox, person.external_person_id)
    assert "email" not in remote["custom_fields"]
    assert "zip_code" not in remote["custom_fields"]
    assert remote["custom_fields"]["first_name"] == "Ada"


def test_fifty_edits_while_pending_become_one_call_with_the_latest_state(vibes_sandbox):
    person = make_person(first_name="Start")
    settle()
    vibes_sandbox.control.clear_calls()
    for n in range(50):
        services.person_update(person=person, source=Source.PREFERENCE_CENTER, first_name=f"N{n}")
    settle()
    [call] = vibes_calls(vibes_sandbox)
    assert call["body"]["custom_fields"]["first_name"] == "N49"
    assert (
        remote_person(vibes_sandbox, person.external_person_id)["custom_fields"]["first_name"]
        == "N49"
    )


def test_add_person_answered_200_links_the_person_vibes_merged_into(vibes_sandbox):
    existing = vibes_sandbox.client().add_person({"mobile_phone": {"mdn": "+12015550131"}})
    assert existing.created
    person = make_person(first_name="Mo", mdn="+12015550131", source=Source.IMPORT)
    settle()
    calls = vibes_calls(vibes_sandbox, path_part="/mobiledb/persons")
    assert [(c["method"], c["status"]) for c in calls][-2:] == [("GET", 404), ("POST", 200)]
    person.refresh_from_db()
    assert person.person_key == existing.person["person_key"]
    remote = remote_person(vibes_sandbox, person.external_person_id)
    assert remote["person_key"] == person.person_key
    assert remote["custom_fields"]["first_name"] == "Mo"
    assert Operation.objects.get().status == OperationStatus.DONE


def test_add_person_409_is_a_conflict_that_is_never_retried(vibes_sandbox):
    vibes_sandbox.client().add_person(
        {"external_person_id": "someone-else", "mobile_phone": {"mdn": "+12015550132"}}
    )
    person = make_person(mdn="+12015550132", source=Source.IMPORT)
    settle()
    operation = Operation.objects.get()
    assert operation.status == OperationStatus.CONFLICT
    assert operation.http_status == 409
    assert "web opt-in" in operation.error
    calls_before = len(vibes_calls(vibes_sandbox))
    from vibes_integration.sync.sweep import sweep

    sweep()
    settle()
    assert len(vibes_calls(vibes_sandbox)) == calls_before
    state = person_sync_states([person.pk])[person.pk]
    assert state.status == SyncStatus.CONFLICT
    assert "web opt-in" in state.reason


@pytest.mark.parametrize("sandbox_contract", UPDATE_ANSWERS, indirect=True)
def test_update_person_409_is_a_conflict_with_one_call(vibes_sandbox, sandbox_contract):
    person = make_person(first_name="Ada")
    settle()
    vibes_sandbox.control.clear_calls()
    vibes_sandbox.control.set_faults(fail_next=[409])
    services.person_update(person=person, source=Source.STAFF, first_name="Ana")
    settle()
    assert [(c["method"], c["status"]) for c in vibes_calls(vibes_sandbox)] == [("PUT", 409)]
    operation = Operation.objects.latest("id")
    assert operation.status == OperationStatus.CONFLICT
    assert person_sync_states([person.pk])[person.pk].status == SyncStatus.CONFLICT


@pytest.mark.parametrize("sandbox_contract", UPDATE_ANSWERS, indirect=True)
def test_number_changed_in_the_crm_is_not_sent_and_shows_a_conflict(
    vibes_sandbox, sandbox_contract
):
    person = make_person(mdn="+12015550133", source=Source.IMPORT)
    settle()
    vibes_sandbox.control.clear_calls()
    services.person_update(person=person, source=Source.STAFF, mdn="+12015550134")
    settle()
    # Update Person's answer says nothing about the number: the sync reads the person.
    put, read = vibes_calls(vibes_sandbox)
    assert put["method"] == "PUT" and "mobile_phone" not in put["body"]
    assert (read["method"], read["status"]) == ("GET", 200)
    state = person_sync_states([person.pk])[person.pk]
    assert state.status == SyncStatus.CONFLICT
    assert "2015550134" not in state.reason and "•" in state.reason  # numbers masked
    remote = remote_person(vibes_sandbox, person.external_person_id)
    assert remote["mdn"] == "+12015550133"


def test_removed_number_is_removed_in_vibes_with_mdn_null(vibes_sandbox):
    person = make_person(mdn="+12015550135", source=Source.IMPORT)
    settle()
    services.person_update(person=person, source=Source.STAFF, mdn=None)
    settle()
    put = vibes_calls(vibes_sandbox, method="PUT")[-1]
    assert put["body"]["mobile_phone"] == {"mdn": None}
    assert remote_person(vibes_sandbox, person.external_person_id)["mdn"] is None
    assert person_sync_states([person.pk])[person.pk].status == SyncStatus.IN_SYNC


def test_unknown_custom_field_is_a_permanent_failure_with_vibes_messages(vibes_sandbox):
    make_custom_field(key="shoe_colour")  # synced, but Vibes does not define it
    person = make_person(custom_fields={"shoe_colour": "red"})
    settle()
    operation = Operation.objects.get()
    assert operation.status == OperationStatus.FAILED
    assert operation.http_status == 422
    assert "Unknown custom field: shoe_colour" in operation.error
    statuses = [(c["method"], c["status"]) for c in vibes_calls(vibes_sandbox)]
    assert statuses == [("GET", 404), ("POST", 422)]  # and never retried
    state = person_sync_states([person.pk])[person.pk]
    assert state.status == SyncStatus.FAILED
    assert "shoe_colour" in state.reason


@pytest.mark.parametrize("sandbox_contract", UPDATE_ANSWERS, indirect=True)
def test_an_edit_that_keeps_the_number_reads_nothing_and_is_no_conflict(
    vibes_sandbox, sandbox_contract
):
    person = make_person(first_name="Ada", mdn="+12015550136", source=Source.IMPORT)
    settle()
    vibes_sandbox.control.clear_calls()
    services.person_update(person=person, source=Source.STAFF, first_name="Ana")
    settle()
    [call] = vibes_calls(vibes_sandbox)
    assert call["method"] == "PUT"
    assert Operation.objects.latest("id").status == OperationStatus.DONE
    assert person_sync_states([person.pk])[person.pk].status == SyncStatus.IN_SYNC
