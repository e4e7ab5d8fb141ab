"""Erasure through the sandbox: the CRM keeps a pseudonymised person and its ledger, Vibes
ends every list and nullifies the person by person key."""

from __future__ import annotations

import pytest

from crm.choices import ConsentAction, Source
from crm.erasure_hashing import email_hash, mdn_hash
from crm.models import ConsentEvent, ErasureRequest, Person
from crm.services.erasure import erasure_request
from tests.sync.conftest import settle, vibes_calls
from vibes_integration.sync.choices import OperationKind, OperationStatus
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db


def _vibes_person(sandbox, person_key: str) -> dict:
    [found] = [p for p in sandbox.control.persons() if p["person_key"] == person_key]
    return found


def _active_lists(sandbox, person_key: str) -> list[str]:
    return [
        s["list_id"]
        for s in sandbox.control.subscriptions()
        if s["person_key"] == person_key and not s.get("opt_out_date")
    ]


def test_erasure_nulls_the_person_in_vibes_and_keeps_the_proof(vibes_sandbox, subscribed):
    person = subscribed.person
    person_key = person.person_key
    assert _active_lists(vibes_sandbox, person_key) == ["1001"]
    vibes_sandbox.control.clear_calls()

    request = erasure_request(person=person, source=Source.STAFF, requested_by="staff:1")

    person = Person.objects.get(pk=person.pk)
    assert (person.mdn, person.email, person.first_name, person.last_name) == (None, "", "", "")
    assert person.custom_fields == {}
    assert person.person_key == person_key
    assert request.crm_finished_at is not None and request.vibes_finished_at is None
    assert request.mdn_hash == mdn_hash("(201) 555-0177") != ""
    assert request.email_hash == email_hash(" erin.erasable@EXAMPLE.com") != ""
    [nullify] = Operation.objects.filter(person=person, kind=OperationKind.NULLIFY)

    settle()

    nullify.refresh_from_db()
    assert nullify.status == OperationStatus.DONE
    vibes_person = _vibes_person(vibes_sandbox, person_key)
    assert vibes_person["mdn"] is None
    assert vibes_person["carrier_code"] is None
    assert vibes_person["external_person_id"] is None
    fields = vibes_person.get("custom_fields") or {}
    assert all(value is None for value in fields.values())
    assert _active_lists(vibes_sandbox, person_key) == []
    puts = vibes_calls(vibes_sandbox, method="PUT", path_part=f"/persons/{person_key}")
    assert puts, "the nullification is addressed by person_key"
    deletes = vibes_calls(vibes_sandbox, method="DELETE", path_part=f"/persons/{person_key}/")
    assert [call["path"].rsplit("/", 1)[1] for call in deletes] == ["1001"]

    request = ErasureRequest.objects.get(pk=request.pk)
    assert request.vibes_finished_at is not None and request.is_done
    assert all(target["mdn"] == "" for target in request.vibes_targets)

    actions = set(ConsentEvent.objects.filter(person=person).values_list("action", flat=True))
    assert {ConsentAction.OPTED_IN, ConsentAction.OPTED_OUT} <= actions
    leftovers = ConsentEvent.objects.filter(person=person).exclude(
        mdn="", ip_address=None, user_agent=""
    )
    assert not leftovers.exists()


def test_asking_twice_erases_once(vibes_sandbox, subscribed):
    first = erasure_request(person=subscribed.person, source=Source.API, requested_by="api:1")
    again = erasure_request(person=subscribed.person, source=Source.STAFF)
    assert again.pk == first.pk
    assert Operation.objects.filter(kind=OperationKind.NULLIFY).count() == 1


def test_a_person_vibes_never_knew_is_done_at_once(db):
    from tests.fixtures.builders import make_person

    person = make_person(first_name="Never", email="never@example.com")
    request = erasure_request(person=person, source=Source.STAFF)
    assert request.is_done
    assert not Operation.objects.filter(kind=OperationKind.NULLIFY).exists()


def test_a_failing_nullification_is_retried_and_stays_visible(vibes_sandbox, subscribed, settings):
    settings.VIBES_SYNC_MAX_ATTEMPTS = 2
    vibes_sandbox.control.set_faults(api_failure_rate=1.0)
    request = erasure_request(person=subscribed.person, source=Source.STAFF)
    settle()
    [nullify] = Operation.objects.filter(kind=OperationKind.NULLIFY)
    assert nullify.status == OperationStatus.FAILED
    assert nullify.attempts == 2
    request.refresh_from_db()
    assert request.vibes_finished_at is None
    assert request.vibes_targets[0]["person_key"] == subscribed.person.person_key
