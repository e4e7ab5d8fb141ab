"""Which identifier names a person in each call, and when a 404 may count as done.

Vibes knows a person by person key always, by the CRM's external id only once it holds
it. A leave answered 404 by an identifier Vibes may not know proves nothing, so the sync
looks the person up first; Update Person's answer is never read for Vibes' state.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm import services
from crm.choices import Source, SubscriptionState
from tests.fixtures.builders import make_person
from tests.fixtures.sandbox import contract_variants
from tests.fixtures.tasks import run_ready_tasks
from tests.sync.conftest import settle, vibes_calls
from vibes_integration.sync.choices import OperationKind, OperationStatus, SyncStatus
from vibes_integration.sync.models import Operation
from vibes_integration.sync.selectors import person_sync_states
from vibes_integration.sync.sweep import sweep

pytestmark = pytest.mark.django_db

MDN = "+12015550181"


def _keyword_joiner_in_vibes(sandbox, mdn: str = MDN) -> dict:
    """Someone who texted DEALS while the CRM heard nothing of it."""
    sandbox.control.phone_reply(mdn, "DEALS")
    [remote] = [p for p in sandbox.control.persons() if p["mdn"] == mdn]
    return remote


def _subscribed(person, deals) -> None:
    services.subscription_change(
        person=person,
        subscription_list=deals,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )


def _active_in_vibes(sandbox, person_key: str) -> bool:
    return any(
        r["person_key"] == person_key and r["list_id"] == "1001" and not r.get("opt_out_date")
        for r in sandbox.control.subscriptions()
    )


def test_a_leave_for_a_person_without_a_key_looks_them_up_before_anything_counts(
    vibes_sandbox, deals
):
    remote = _keyword_joiner_in_vibes(vibes_sandbox)
    person = make_person(external_person_id="vibes-mdn-abc", mdn=MDN, source=Source.VIBES)
    _subscribed(person, deals)
    vibes_sandbox.control.clear_calls()

    services.subscription_leave(person=person, subscription_list=deals, source=Source.STAFF)
    settle()

    calls = [(c["method"], c["path"].split("/mobiledb/")[-1], c["status"]) for c in
             vibes_calls(vibes_sandbox)]  # fmt: skip
    assert calls == [
        ("GET", "persons/external/vibes-mdn-abc", 404),  # Vibes never had this id
        ("GET", "persons", 200),  # by number
        ("DELETE", f"persons/{remote['person_key']}/subscriptions/1001", 204),
    ]
    assert not _active_in_vibes(vibes_sandbox, remote["person_key"])
    assert Operation.objects.get().status == OperationStatus.DONE
    person.refresh_from_db()
    assert person.person_key == remote["person_key"]  # learned from Vibes, kept
    assert person.external_id_in_vibes is False


def test_a_leave_for_a_person_vibes_knows_only_by_the_old_id_waits_for_the_key(
    vibes_sandbox, deals, settings
):
    settings.VIBES_SYNC_BACKOFF_BASE = 60  # the retry waits: the test moves time on
    settings.VIBES_SYNC_BACKOFF_MAX = 60
    remote = _keyword_joiner_in_vibes(vibes_sandbox)
    person = make_person(
        external_person_id=f"vibes-id-{remote['person_id']}",
        vibes_person_id=str(remote["person_id"]),
        source=Source.VIBES,
    )
    _subscribed(person, deals)

    services.subscription_leave(person=person, subscription_list=deals, source=Source.STAFF)
    run_ready_tasks()

    leave = Operation.objects.get()
    assert leave.status == OperationStatus.PENDING  # not done on a 404 that proves nothing
    assert leave.attempts == 1
    assert "old person id" in leave.error
    assert not vibes_calls(vibes_sandbox, method="DELETE")
    assert _active_in_vibes(vibes_sandbox, remote["person_key"])

    # A person callback (or reconcile) tells the CRM the key; the retry then leaves.
    services.person_update(person=person, person_key=remote["person_key"], source=Source.VIBES)
    Operation.objects.filter(pk=leave.pk).update(next_attempt_at=timezone.now())
    sweep()
    settle()

    leave.refresh_from_db()
    assert leave.status == OperationStatus.DONE
    [delete] = vibes_calls(vibes_sandbox, method="DELETE")
    assert delete["path"].endswith(f"/persons/{remote['person_key']}/subscriptions/1001")
    assert not _active_in_vibes(vibes_sandbox, remote["person_key"])


def test_a_leave_for_someone_vibes_does_not_know_at_all_is_done_after_looking(vibes_sandbox, deals):
    person = make_person(mdn="+12015550182", source=Source.VIBES)
    _subscribed(person, deals)

    services.subscription_leave(person=person, subscription_list=deals, source=Source.STAFF)
    settle()

    assert [(c["method"], c["status"]) for c in vibes_calls(vibes_sandbox)] == [
        ("GET", 404),
        ("GET", 404),
    ]
    leave = Operation.objects.get()
    assert leave.status == OperationStatus.DONE
    assert "Vibes knows no person" in leave.error


@pytest.mark.parametrize(
    "sandbox_contract",
    contract_variants("update_person_answer", "update_by_unknown_external_id"),
    indirect=True,
)
def test_update_person_of_a_keyword_joiner_goes_by_key_and_any_2xx_is_done(
    vibes_sandbox, sandbox_contract
):
    remote = _keyword_joiner_in_vibes(vibes_sandbox)
    person = make_person(
        external_person_id=f"vibes-{remote['person_key']}",
        person_key=remote["person_key"],
        mdn=MDN,
        source=Source.VIBES,
    )
    vibes_sandbox.control.clear_calls()

    services.person_update(person=person, source=Source.STAFF, first_name="Kim")
    settle()

    [put] = vibes_calls(vibes_sandbox)
    assert (put["method"], put["path"].split("/mobiledb/")[-1]) == (
        "PUT",
        f"persons/{remote['person_key']}",
    )
    assert put["status"] in (200, 201)
    operation = Operation.objects.get()
    assert (operation.kind, operation.status) == (OperationKind.PERSON, OperationStatus.DONE)
    assert person_sync_states([person.pk])[person.pk].status == SyncStatus.IN_SYNC
    [stored] = vibes_sandbox.control.persons()  # no second Vibes person
    assert stored["external_person_id"] == person.external_person_id
    assert stored["custom_fields"]["first_name"] == "Kim"
    person.refresh_from_db()
    assert person.external_id_in_vibes is True


@pytest.mark.parametrize(
    "sandbox_contract",
    contract_variants("update_person_answer", "add_person_answer"),
    indirect=True,
)
def test_a_person_added_before_with_the_answer_lost_is_updated_not_added_twice(
    vibes_sandbox, sandbox_contract
):
    person = make_person(first_name="Ada", mdn=MDN, source=Source.VIBES)
    added = vibes_sandbox.client().add_person(
        {"external_person_id": person.external_person_id, "mobile_phone": {"mdn": MDN}}
    )
    vibes_sandbox.control.clear_calls()

    services.person_update(person=person, source=Source.STAFF, first_name="Ada B.")
    settle()

    assert [c["method"] for c in vibes_calls(vibes_sandbox)] == ["GET", "PUT"]
    assert len(vibes_sandbox.control.persons()) == 1
    assert Operation.objects.get().status == OperationStatus.DONE
    person.refresh_from_db()
    [stored] = vibes_sandbox.control.persons()
    assert person.person_key == stored["person_key"]
    assert added.person.get("person_key") in (None, person.person_key)
    assert person.external_id_in_vibes is True


def test_reconcile_reads_a_keyword_joiner_by_key_and_takes_a_lost_stop(vibes_sandbox, deals):
    remote = _keyword_joiner_in_vibes(vibes_sandbox)
    person = make_person(
        external_person_id=f"vibes-{remote['person_key']}",
        person_key=remote["person_key"],
        mdn=MDN,
        source=Source.VIBES,
    )
    _subscribed(person, deals)
    vibes_sandbox.control.phone_reply(MDN, "STOP")  # its callback was lost
    vibes_sandbox.control.clear_calls()

    out = io.StringIO()
    call_command("vibes_reconcile", stdout=out, stderr=io.StringIO())

    assert (
        "left in Vibes, subscribed in the CRM [Vibes is right; repaired: unsubscribe in the CRM]"
        in out.getvalue()
    )
    assert person.subscriptions.get().state == SubscriptionState.UNSUBSCRIBED
    paths = [c["path"].split("/mobiledb/")[-1] for c in vibes_calls(vibes_sandbox)]
    assert paths == [
        f"persons/{remote['person_key']}",
        f"persons/{remote['person_key']}/subscriptions",
    ]


def test_a_404_by_an_external_id_vibes_no_longer_holds_is_checked_by_key(vibes_sandbox, deals):
    remote = _keyword_joiner_in_vibes(vibes_sandbox)
    # The CRM believes Vibes holds its id (say Vibes' record was unlinked since).
    person = make_person(
        external_person_id="crm-unlinked",
        person_key=remote["person_key"],
        external_id_in_vibes=True,
        mdn=MDN,
        source=Source.VIBES,
    )
    _subscribed(person, deals)
    vibes_sandbox.control.clear_calls()

    services.subscription_leave(person=person, subscription_list=deals, source=Source.STAFF)
    settle()

    deletes = [(c["path"].split("/persons/")[-1], c["status"]) for c in
               vibes_calls(vibes_sandbox, method="DELETE")]  # fmt: skip
    assert deletes == [
        ("external/crm-unlinked/subscriptions/1001", 404),
        (f"{remote['person_key']}/subscriptions/1001", 204),
    ]
    assert not _active_in_vibes(vibes_sandbox, remote["person_key"])
    assert Operation.objects.get().status == OperationStatus.DONE


@pytest.mark.parametrize(
    "sandbox_contract",
    contract_variants("add_person_answer", "update_by_unknown_external_id"),
    indirect=True,
)
def test_backfill_names_persons_as_the_sync_does_and_learns_every_key(
    vibes_sandbox, sandbox_contract
):
    remote = _keyword_joiner_in_vibes(vibes_sandbox)
    joiner = make_person(
        external_person_id=f"vibes-{remote['person_key']}",
        person_key=remote["person_key"],
        mdn=MDN,
        source=Source.VIBES,
    )
    newcomers = [
        make_person(first_name=f"New{n}", mdn=f"+1201555019{n}", source=Source.VIBES)
        for n in range(3)
    ]
    vibes_sandbox.control.clear_calls()

    call_command("vibes_backfill", "--all", stdout=io.StringIO(), stderr=io.StringIO())

    assert set(Operation.objects.values_list("status", flat=True)) == {OperationStatus.DONE}
    stored = {p["external_person_id"]: p for p in vibes_sandbox.control.persons()}
    assert len(stored) == 4  # one Vibes person each, the keyword joiner included
    for person in [joiner, *newcomers]:
        person.refresh_from_db()
        assert person.person_key == stored[person.external_person_id]["person_key"]
        assert person.external_id_in_vibes is True
    joiner_calls = [c for c in vibes_calls(vibes_sandbox) if remote["person_key"] in c["path"]]
    assert [(c["method"], c["status"] < 300) for c in joiner_calls] == [("PUT", True)]


def test_a_leave_never_goes_to_a_record_of_the_number_that_names_another_crm_id(
    vibes_sandbox, deals
):
    vibes_sandbox.client().add_person(
        {"external_person_id": "crm-someone-else", "mobile_phone": {"mdn": MDN}}
    )
    person = make_person(external_person_id="vibes-mdn-abc", mdn=MDN, source=Source.VIBES)
    _subscribed(person, deals)
    vibes_sandbox.control.clear_calls()

    services.subscription_leave(person=person, subscription_list=deals, source=Source.STAFF)
    settle()

    assert not vibes_calls(vibes_sandbox, method="DELETE")
    leave = Operation.objects.get()
    assert leave.status == OperationStatus.FAILED
    assert "crm-someone-else" in leave.error
    person.refresh_from_db()
    assert person.person_key is None
