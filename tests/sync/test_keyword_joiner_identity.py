"""Someone who joined by texting a keyword has no external id in Vibes: the CRM learns them
from Vibes' callbacks and names them by person key until Vibes holds the CRM's id.

Everything goes over real HTTP: the phone texts the sandbox, the sandbox calls the site
(``live_server``) with its callbacks, the subscriber leaves on the preference page, and the
sync calls the sandbox. Each test runs against every documented shape of a callback's
person (``id`` beside ``person_key``, or the older ``id`` and ``external_id`` only).
"""

from __future__ import annotations

import re

import pytest
import requests

from crm import services
from crm.choices import Source, SubscriptionState
from crm.models import Person, Subscription
from prefcenter.preferences.tokens import preference_path
from tests.fixtures.callbacks import process_callbacks
from tests.fixtures.sandbox import contract_variants
from tests.sync.conftest import settle, vibes_calls
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.sync.choices import OperationKind, OperationStatus
from vibes_integration.sync.models import Operation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("open_callbacks")]

MDN = "+12015550191"
CALLBACK_SHAPES = contract_variants("callback_person")


@pytest.fixture
def registered(vibes_sandbox, live_server, deals):
    """The site registered with the sandbox for the callbacks these tests need: person
    callbacks, and subscription callbacks filtered to list 1001 (Vibes requires a list)."""
    client = vibes_sandbox.client()
    url = f"{live_server.url}/vibes/callbacks/"
    for callback_type in ("person_added", "person_updated"):
        client.register_callback(callback_type, url=url)
    for callback_type in ("subscription_added", "subscription_removed"):
        client.register_callback(callback_type, url=url, list_id="1001")
    return vibes_sandbox


def _receive_callbacks(sandbox) -> None:
    sandbox.control.wait_for_deliveries(timeout=30)
    process_callbacks()
    statuses = set(CallbackEvent.objects.values_list("status", flat=True))
    assert statuses <= {CallbackStatus.PROCESSED, CallbackStatus.STALE}, list(
        CallbackEvent.objects.values("callback_type", "status", "error", "notes")
    )


def _remote_person(sandbox, mdn: str) -> dict:
    [remote] = [p for p in sandbox.control.persons() if p["mdn"] == mdn]
    return remote


def _active_in_vibes(sandbox, person_key: str, list_id: str) -> bool:
    return any(
        record["person_key"] == person_key
        and record["list_id"] == list_id
        and not record.get("opt_out_date")
        for record in sandbox.control.subscriptions()
    )


def _leave_on_the_preference_page(live_server, person: Person, list_id: str) -> None:
    """What the subscriber's browser does: open their link, press Leave on one list."""
    url = f"{live_server.url}{preference_path(person)}"
    with requests.Session() as browser:
        page = browser.get(url, timeout=30)
        assert page.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = browser.post(
            url,
            data={"csrfmiddlewaretoken": token, "action": "leave", "list": list_id},
            headers={"Referer": url},
            timeout=30,
        )
    assert answer.status_code == 200, answer.text[:500]
    assert "You will not get its texts any more." in answer.text


@pytest.mark.parametrize("sandbox_contract", CALLBACK_SHAPES, indirect=True)
def test_a_keyword_joiner_who_leaves_on_the_preference_page_is_off_the_list_in_vibes(
    registered, live_server, sandbox_contract
):
    registered.control.phone_reply(MDN, "DEALS")
    _receive_callbacks(registered)

    remote = _remote_person(registered, MDN)
    assert remote["external_person_id"] is None  # a keyword joiner: Vibes has no CRM id
    person = Person.objects.get()  # one person, whatever order the callbacks came in
    assert person.person_key == remote["person_key"]
    assert person.vibes_person_id == str(remote["person_id"]) != person.person_key
    assert person.external_id_in_vibes is False
    assert Subscription.objects.get(person=person).state == SubscriptionState.SUBSCRIBED
    assert _active_in_vibes(registered, remote["person_key"], "1001")
    registered.control.clear_calls()

    _leave_on_the_preference_page(live_server, person, "1001")
    settle()

    [delete] = vibes_calls(registered, method="DELETE")
    assert delete["path"].endswith(f"/mobiledb/persons/{person.person_key}/subscriptions/1001")
    assert delete["status"] == 204
    assert not _active_in_vibes(registered, remote["person_key"], "1001")
    leave = Operation.objects.get(kind=OperationKind.UNSUBSCRIBE)
    assert leave.status == OperationStatus.DONE and not leave.error

    # Vibes reports the leave back; it changes nothing and makes no second person.
    _receive_callbacks(registered)
    assert Person.objects.count() == 1
    assert Subscription.objects.get(person=person).state == SubscriptionState.UNSUBSCRIBED


@pytest.mark.parametrize(
    "sandbox_contract",
    contract_variants("callback_person", "update_by_unknown_external_id"),
    indirect=True,
)
def test_an_edit_gives_vibes_the_crm_id_by_key_and_later_calls_use_it(
    registered, live_server, sandbox_contract
):
    registered.control.phone_reply(MDN, "DEALS")
    _receive_callbacks(registered)
    person = Person.objects.get()
    registered.control.clear_calls()

    services.person_update(person=person, source=Source.PREFERENCE_CENTER, first_name="Kim")
    settle()

    [put] = vibes_calls(registered, method="PUT")
    assert put["path"].endswith(f"/mobiledb/persons/{person.person_key}")
    assert put["body"]["external_person_id"] == person.external_person_id
    remote = _remote_person(registered, MDN)
    assert remote["external_person_id"] == person.external_person_id
    assert remote["custom_fields"]["first_name"] == "Kim"
    assert len(registered.control.persons()) == 1  # never a second Vibes person
    person.refresh_from_db()
    assert person.external_id_in_vibes is True

    # Vibes' person_updated callback now carries the CRM's id: still one person.
    _receive_callbacks(registered)
    assert Person.objects.count() == 1
    registered.control.clear_calls()
    _leave_on_the_preference_page(live_server, person, "1001")
    settle()
    [delete] = vibes_calls(registered, method="DELETE")
    assert delete["path"].endswith(
        f"/mobiledb/persons/external/{person.external_person_id}/subscriptions/1001"
    )
    assert delete["status"] == 204
    assert not _active_in_vibes(registered, remote["person_key"], "1001")
