"""The demo is one world: what the CRM shows, the sandbox holds, over real HTTP.

``load_demo --sandbox`` gives the Vibes sandbox (a real HTTP server) the same persons,
subscriptions and web opt-ins it writes to the CRM; a STOP texted from the sandbox's
phone then reaches the CRM through a real callback to ``live_server``.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from crm.choices import ConsentAction, SubscriptionState
from crm.models import ConsentEvent, Person, Subscription
from tests.fixtures.callbacks import process_callbacks
from vibes_integration.sync.choices import ACTIVE_STATUSES
from vibes_integration.sync.models import Operation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("open_callbacks")]

PERSONS = "40"


def _load(sandbox_url: str, persons: str = PERSONS) -> str:
    out = io.StringIO()
    call_command("load_demo", "--persons", persons, "--sandbox", sandbox_url, stdout=out)
    return out.getvalue()


def _crm_subscribed() -> set[tuple[str, str, str, str]]:
    return {
        (
            s.person.external_person_id,
            s.person.person_key,
            str(s.person.mdn),
            s.subscription_list.list_id,
        )
        for s in Subscription.objects.filter(state=SubscriptionState.SUBSCRIBED).select_related(
            "person", "subscription_list"
        )
    }


def _sandbox_subscribed(control) -> set[tuple[str, str, str, str]]:
    return {
        (r["external_person_id"], r["person_key"], r["mdn"], r["list_id"])
        for r in control.subscriptions()
        if r["active"]
    }


def test_every_subscription_is_held_on_both_sides(vibes_sandbox):
    control = vibes_sandbox.control
    _load(vibes_sandbox.server.url)

    crm = _crm_subscribed()
    assert len(crm) > 10
    assert crm == _sandbox_subscribed(control)
    # The persons Vibes holds are the CRM's, by the same key, external id and number.
    held = {(p["person_key"], p["external_person_id"], p["mdn"]) for p in control.persons()}
    assert held == {
        (p.person_key, p.external_person_id, str(p.mdn) if p.mdn else None)
        for p in Person.objects.all()
    }
    # Every subscription's opt-in is in the ledger, and nothing is left to send.
    for subscription in Subscription.objects.filter(state=SubscriptionState.SUBSCRIBED):
        assert ConsentEvent.objects.filter(
            person=subscription.person,
            subscription_list=subscription.subscription_list,
            action=ConsentAction.OPTED_IN,
        ).exists(), subscription
    assert not Operation.objects.filter(status__in=ACTIVE_STATUSES).exists()
    # Open web opt-ins are pending in the sandbox too.
    pending = {(p["mdn"], p["list_id"]) for p in control.participants() if p["status"] == "PENDING"}
    assert pending == {
        (
            str(s.person.opt_in_requests.get(subscription_list=s.subscription_list).mdn),
            s.subscription_list.list_id,
        )
        for s in Subscription.objects.filter(state=SubscriptionState.PENDING).select_related(
            "person", "subscription_list"
        )
    }


def test_loading_again_changes_neither_side(vibes_sandbox):
    _load(vibes_sandbox.server.url)
    before = vibes_sandbox.control.subscriptions()

    assert "already loaded" in _load(vibes_sandbox.server.url)
    assert vibes_sandbox.control.subscriptions() == before


def test_a_sandbox_that_cannot_take_the_demo_leaves_the_crm_empty(vibes_sandbox):
    with pytest.raises(CommandError, match="could not be reached"):
        _load("http://127.0.0.1:9")
    assert not Person.objects.exists()
    assert not vibes_sandbox.control.persons()


def test_stop_from_the_phone_unsubscribes_every_list_on_the_page(
    vibes_sandbox, live_server, settings, client
):
    control = vibes_sandbox.control
    _load(vibes_sandbox.server.url)
    settings.VIBES_CALLBACK_BASE_URL = f"{live_server.url}/vibes/callbacks/"
    call_command("vibes_callbacks", "register", stdout=io.StringIO())
    person = Person.objects.get(external_person_id="demo-0002")
    subscribed = person.subscriptions.filter(state=SubscriptionState.SUBSCRIBED)
    assert subscribed.exists(), "demo-0002 has subscriptions to stop"

    control.phone_reply(str(person.mdn), "STOP")
    control.wait_for_deliveries(timeout=20)
    process_callbacks()

    states = set(person.subscriptions.values_list("state", flat=True))
    assert states == {SubscriptionState.UNSUBSCRIBED}
    assert not [
        r for r in control.subscriptions() if r["person_key"] == person.person_key and r["active"]
    ]


def test_reconcile_finds_no_difference_after_loading(vibes_sandbox):
    _load(vibes_sandbox.server.url)
    out = io.StringIO()
    call_command("vibes_reconcile", "--dry-run", stdout=out, stderr=io.StringIO())
    output = out.getvalue()

    assert "Compared 40 persons: 40 in agreement" in output, output


def test_a_multiple_choice_in_another_order_is_no_difference(vibes_sandbox):
    _load(vibes_sandbox.server.url)
    person = next(
        p for p in Person.objects.order_by("id") if len(p.custom_fields.get("interests", [])) > 1
    )
    reordered = list(reversed(person.custom_fields["interests"]))
    client = vibes_sandbox.client()
    client.update_person(person.person_key, {"custom_fields": {"interests": reordered}})
    assert client.get_person(person.person_key)["custom_fields"]["interests"] == reordered
    out = io.StringIO()

    call_command("vibes_reconcile", "--dry-run", stdout=out, stderr=io.StringIO())

    assert person.external_person_id not in out.getvalue()
    assert "40 in agreement" in out.getvalue()
