"""Leaving a list deletes the subscription in Vibes; a person's operations keep their order."""

from __future__ import annotations

import pytest

from crm import services
from crm.choices import OptInStatus, Source, SubscriptionState
from tests.fixtures.builders import make_person
from tests.sync.conftest import settle, vibes_calls
from vibes_integration.sync.choices import OperationKind, OperationStatus
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db

MDN = "+12015550151"


def subscribed_in_vibes(sandbox, mdn, list_id="1001") -> bool:
    [person] = [p for p in sandbox.control.persons() if p["mdn"] == mdn]
    return any(
        s["person_key"] == person["person_key"]
        and s["list_id"] == list_id
        and not s.get("opt_out_date")
        for s in sandbox.control.subscriptions()
    )


def test_leaving_deletes_the_subscription_in_vibes(vibes_sandbox, deals):
    person = make_person()
    services.opt_in_request(
        person=person, mdn=MDN, subscription_lists=[deals], source=Source.PREFERENCE_CENTER
    )
    settle()
    vibes_sandbox.control.phone_reply(MDN, "Y")
    request = person.opt_in_requests.get()
    services.opt_in_request_update(
        opt_in_request=request, status=OptInStatus.CONFIRMED, source=Source.VIBES
    )
    assert subscribed_in_vibes(vibes_sandbox, MDN)
    vibes_sandbox.control.clear_calls()

    services.subscription_leave(
        person=person, subscription_list=deals, source=Source.PREFERENCE_CENTER
    )
    settle()
    [call] = vibes_calls(vibes_sandbox)
    assert call["method"] == "DELETE"
    assert call["path"].endswith(
        f"/persons/external/{person.external_person_id}/subscriptions/1001"
    )
    assert not subscribed_in_vibes(vibes_sandbox, MDN)
    assert Operation.objects.latest("id").status == OperationStatus.DONE


def test_leaving_a_list_vibes_never_had_is_done_on_404(vibes_sandbox, deals):
    person = make_person()
    services.subscription_change(
        person=person,
        subscription_list=deals,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.IMPORT,
    )
    services.subscription_leave(person=person, subscription_list=deals, source=Source.STAFF)
    settle()
    delete = vibes_calls(vibes_sandbox, method="DELETE")
    person.refresh_from_db()
    # The 404 by external id is checked by Vibes' own key before it counts as done.
    assert [(c["path"].split("/persons/")[-1], c["status"]) for c in delete] == [
        (f"external/{person.external_person_id}/subscriptions/1001", 404),
        (f"{person.person_key}/subscriptions/1001", 404),
    ]
    operation = Operation.objects.get(kind=OperationKind.UNSUBSCRIBE)
    assert operation.status == OperationStatus.DONE and operation.http_status == 404


def test_a_persons_operations_reach_vibes_in_the_order_they_were_made(vibes_sandbox, deals):
    person = make_person(first_name="One", mdn="+12015550152", source=Source.IMPORT)
    settle()
    vibes_sandbox.control.phone_reply("+12015550152", "DEALS")
    services.subscription_change(
        person=person, subscription_list=deals, state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )  # fmt: skip
    assert subscribed_in_vibes(vibes_sandbox, "+12015550152")
    vibes_sandbox.control.clear_calls()

    services.person_update(person=person, source=Source.STAFF, mdn=None)
    services.subscription_leave(person=person, subscription_list=deals, source=Source.STAFF)
    services.opt_in_request(
        person=person, mdn=MDN, subscription_lists=[deals], source=Source.PREFERENCE_CENTER
    )
    # A later edit joins the Update Person still waiting: it is sent with the latest state.
    services.person_update(person=person, source=Source.STAFF, first_name="Two")
    kinds = list(
        Operation.objects.filter(status=OperationStatus.PENDING)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == [OperationKind.PERSON, OperationKind.UNSUBSCRIBE, OperationKind.OPT_IN]
    settle()
    calls = vibes_calls(vibes_sandbox)
    assert [(c["method"], c["path"].split("/")[-1]) for c in calls] == [
        ("PUT", person.external_person_id),
        ("DELETE", "1001"),
        ("POST", "participants"),
    ]
    assert calls[0]["body"]["mobile_phone"] == {"mdn": None}
    assert calls[0]["body"]["custom_fields"]["first_name"] == "Two"
    assert [200 <= c["status"] < 300 for c in calls] == [True, True, True]
    assert person.opt_in_requests.get().status == OptInStatus.PENDING


def test_operations_made_while_one_is_being_sent_wait_for_it(vibes_sandbox, deals):
    person = make_person(first_name="One")
    settle()
    vibes_sandbox.control.clear_calls()
    services.person_update(person=person, source=Source.STAFF, first_name="Two")
    from vibes_integration.sync.claims import claim_due

    claim = claim_due(worker="test", limit=10)  # a worker took the Update Person...
    assert [op.kind for op in claim.operations] == [OperationKind.PERSON]
    services.subscription_leave(person=person, subscription_list=deals, source=Source.STAFF)
    services.person_update(person=person, source=Source.STAFF, first_name="Three")
    # ...so the leave and the new edit wait behind it rather than overtaking it.
    assert not claim_due(worker="other", limit=10)
