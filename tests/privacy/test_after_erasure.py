"""After an erasure nothing comes back: the callbacks Vibes sends about the erased person
change only their pseudonymised record, and the same number joining again by keyword is a
fresh person, recognised through the hash.

The callbacks are the ones the sandbox really sends (caught by a receiver over HTTP), then
delivered to the CRM's endpoint as Vibes would.
"""

from __future__ import annotations

import pytest

from crm.choices import ConsentAction, Source, SubscriptionState
from crm.erasure_models import person_is_erased
from crm.models import ConsentEvent, Person, Subscription
from crm.services.erasure import erasure_request
from tests.fixtures.callbacks import deliver
from tests.sync.conftest import settle
from vibes_integration.callbacks.erasure import ERASED_NOTE

pytestmark = pytest.mark.django_db


def _register(sandbox, receiver, *types: str) -> None:
    client = sandbox.client()
    for callback_type in types:
        list_id = "1001" if callback_type.startswith("subscription") else None
        client.register_callback(callback_type, url=receiver.url, list_id=list_id)


def _erased_and_settled(sandbox, subscribed):
    request = erasure_request(person=subscribed.person, source=Source.STAFF)
    settle()
    sandbox.control.wait_for_deliveries()
    return request


def test_callbacks_about_the_erased_person_restore_nothing(
    vibes_sandbox, subscribed, callback_receiver, client, open_callbacks
):
    _register(vibes_sandbox, callback_receiver, "subscription_removed", "person_updated")
    _erased_and_settled(vibes_sandbox, subscribed)
    removed = callback_receiver.bodies("subscription_removed")
    assert removed, "Vibes tells of the lists the erasure ended"
    # A person_updated that happened before the erasure and arrives late: it names them.
    late = {
        "event_id": "late-person-updated-1",
        "event_type": "person_updated",
        "callback_type": "person_updated",
        "event_date": "2020-01-01T00:00:00Z",
        "person": {
            "person_key": subscribed.person.person_key,
            "external_person_id": "ext-late",
            "mobile_phone": {"mdn": subscribed.mdn, "carrier_code": "att"},
            "custom_fields": {"first_name": "Erin", "email": subscribed.email},
        },
    }
    for body in [*removed, *callback_receiver.bodies("person_updated"), late]:
        event = deliver(client, body)
        assert event.person_id == subscribed.person.pk
        assert (event.body, event.payload, event.mdn) == ("", None, "")
        assert event.notes == [ERASED_NOTE]

    person = Person.objects.get(pk=subscribed.person.pk)
    assert person_is_erased(person)
    assert (person.mdn, person.email, person.first_name, person.custom_fields) == (None, "", "", {})
    subscription = Subscription.objects.get(person=person, subscription_list=subscribed.deals)
    assert subscription.state == SubscriptionState.UNSUBSCRIBED
    lines = ConsentEvent.objects.filter(person=person)
    assert not lines.exclude(mdn="").exists()
    assert not lines.exclude(ip_address=None).exists()


def test_a_keyword_after_erasure_starts_a_fresh_person(
    vibes_sandbox, subscribed, callback_receiver, client, open_callbacks
):
    request = _erased_and_settled(vibes_sandbox, subscribed)
    _register(vibes_sandbox, callback_receiver, "subscription_added")

    vibes_sandbox.control.phone_reply(subscribed.mdn, "DEALS")
    vibes_sandbox.control.wait_for_deliveries()
    [added] = callback_receiver.bodies("subscription_added")
    event = deliver(client, added)

    fresh = Person.objects.get(mdn=subscribed.mdn)
    assert fresh.pk != subscribed.person.pk
    assert event.person_id == fresh.pk
    assert any(f"erasure request {request.pk}" in note for note in event.notes)
    assert Subscription.objects.get(person=fresh).state == SubscriptionState.SUBSCRIBED
    assert ConsentEvent.objects.filter(person=fresh, action=ConsentAction.OPTED_IN).exists()
    erased = Person.objects.get(pk=subscribed.person.pk)
    assert erased.mdn is None and erased.person_key != fresh.person_key
