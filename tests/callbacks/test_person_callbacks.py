"""person_added / person_updated create or update the CRM person."""

from __future__ import annotations

import datetime

import pytest

from crm import services
from crm.choices import Source
from crm.models import Person
from tests.fixtures.builders import make_person
from tests.fixtures.callbacks import callback_body, deliver
from vibes_integration.callbacks.models import CallbackStatus, CallbackWatermark

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("open_callbacks", "demo_custom_fields"),
]


def _person_body(name="person_added", *, event_id="new", event_date=None, **person_changes):
    body = callback_body(name, event_id=event_id)
    if event_date:
        body["event_date"] = event_date
    body["person"].update(person_changes)
    return body


def test_person_added_creates_the_person_with_columns_and_custom_fields(client):
    event = deliver(client, callback_body("person_added"))

    assert event.status == CallbackStatus.PROCESSED
    person = Person.objects.get()
    assert event.person == person
    assert person.external_person_id == "crm-bruno-02"
    assert person.person_key == "PK-BRUNO-02"
    assert str(person.mdn) == "+12015550142"
    assert person.carrier_code == "VZW"
    assert (person.first_name, person.last_name, person.email) == (
        "Bruno",
        "Okafor",
        "bruno@example.com",
    )
    assert person.custom_fields == {
        "zip_code": "98101",
        "birthday": "1988-07-14",
        "shoe_size": 10.5,
        "loyalty_member": True,
        "interests": ["hiking", "paddling"],
    }
    assert event.notes == ["Custom fields the CRM does not define, ignored: favourite_colour."]
    assert event.mdn == "+12015550142"


def test_person_updated_from_a_version_1_registration_with_a_national_number(client):
    person = make_person(external_person_id="crm-carla-03")

    event = deliver(client, callback_body("person_updated_version1"))

    assert event.status == CallbackStatus.PROCESSED
    person.refresh_from_db()
    assert str(person.mdn) == "+12015550143"
    # Vibes' numeric person_id is kept apart: it is not the person key.
    assert person.person_key is None
    assert person.vibes_person_id == "908172"
    assert person.external_id_in_vibes is True  # Vibes reported the CRM's external id
    assert person.first_name == "Carla"
    assert person.custom_fields["zip_code"] == "97201"


def test_matching_prefers_person_key_then_external_id_then_person_id_then_number(client):
    by_number = make_person(external_person_id="by-number", mdn="+12015550142")
    by_person_id = make_person(external_person_id="by-person-id", vibes_person_id="50202")
    by_external_id = make_person(external_person_id="crm-bruno-02")
    by_key = make_person(external_person_id="by-key", person_key="PK-BRUNO-02")

    body = _person_body(mobile_phone=None, person_id="50202")
    event = deliver(client, body)
    assert event.person == by_key
    assert any("kept the CRM's" in note for note in event.notes)
    assert any("person id 50202 belongs to another CRM person" in n for n in event.notes)

    body = _person_body(person_key=None, mobile_phone=None, person_id="50202")
    assert deliver(client, body).person == by_external_id

    body = _person_body(
        person_key=None, external_person_id=None, mobile_phone=None, person_id="50202"
    )
    assert deliver(client, body).person == by_person_id

    body = _person_body(external_person_id=None, person_key="PK-UNKNOWN")
    body["person"]["custom_fields"] = {}
    assert deliver(client, body).person == by_number
    by_number.refresh_from_db()
    assert by_number.person_key == "PK-UNKNOWN"
    assert Person.objects.count() == 4


def test_a_number_never_matches_a_person_vibes_knows_under_another_key(client):
    holder = make_person(external_person_id="holder", person_key="PK-HOLDER", mdn="+12015550142")

    event = deliver(client, _person_body(external_person_id=None, person_key="PK-RECYCLED"))

    assert event.person != holder
    assert event.person.person_key == "PK-RECYCLED"
    assert event.person.mdn is None  # the number stays with the CRM person who holds it
    assert any("belongs to another CRM person" in note for note in event.notes)


def test_a_callback_with_only_the_legacy_id_finds_the_person_learned_by_key(client):
    deliver(client, _person_body(person_id="50202"))
    person = Person.objects.get()
    assert (person.person_key, person.vibes_person_id) == ("PK-BRUNO-02", "50202")

    legacy = callback_body("subscription_added", event_id="new")
    legacy["subscription"]["person"] = {"id": "50202", "external_id": None}
    event = deliver(client, legacy)

    assert event.status == CallbackStatus.PROCESSED
    assert event.person == person
    assert Person.objects.count() == 1
    person.refresh_from_db()
    assert person.person_key == "PK-BRUNO-02"


def test_a_person_first_known_by_the_legacy_id_learns_the_key_and_stays_one(client):
    legacy = callback_body("subscription_added", event_id="new")
    legacy["subscription"]["person"] = {"id": "50177", "external_id": None}
    deliver(client, legacy)
    person = Person.objects.get()
    assert person.person_key is None
    assert person.vibes_person_id == "50177"
    assert person.external_id_in_vibes is False

    body = _person_body(person_key="PK-KW-77", person_id="50177", external_person_id=None)
    deliver(client, body)

    person = Person.objects.get()
    assert (person.person_key, person.vibes_person_id) == ("PK-KW-77", "50177")
    assert str(person.mdn) == "+12015550142"


def test_a_key_an_older_reading_took_from_the_legacy_id_is_replaced_by_the_real_key(client):
    person = make_person(external_person_id="vibes-50177", person_key="50177")

    event = deliver(client, _person_body(person_key="PK-KW-77", person_id="50177"))

    assert event.person == person
    assert Person.objects.count() == 1
    person.refresh_from_db()
    assert (person.person_key, person.vibes_person_id) == ("PK-KW-77", "50177")


def test_an_older_person_event_is_stale_and_changes_nothing(client):
    newer = _person_body(event_date="2026-03-10T00:00:00Z")
    newer["person"]["custom_fields"]["zip_code"] = "97214"
    older = _person_body(event_date="2026-03-01T00:00:00Z")
    older["person"]["custom_fields"]["zip_code"] = "83702"

    assert deliver(client, newer).status == CallbackStatus.PROCESSED
    event = deliver(client, older)

    assert event.status == CallbackStatus.STALE
    assert Person.objects.get().custom_fields["zip_code"] == "97214"
    watermark = CallbackWatermark.objects.get(subject=f"person:{Person.objects.get().pk}")
    assert watermark.event_date == datetime.datetime(2026, 3, 10, tzinfo=datetime.UTC)


def test_a_crm_edit_newer_than_the_event_is_kept(client):
    deliver(client, _person_body(event_date="2026-03-01T00:00:00Z"))
    person = Person.objects.get()
    services.person_update(
        person=person,
        source=Source.PREFERENCE_CENTER,
        first_name="Bruna",
        custom_fields={"zip_code": "97209"},
    )

    # Vibes had not heard of that edit yet when this happened.
    past = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)).isoformat()
    late = _person_body(event_date=past)
    late["person"]["custom_fields"].update(first_name="Bruno", zip_code="98103", shoe_size=11)
    event = deliver(client, late)

    assert event.status == CallbackStatus.PROCESSED
    person.refresh_from_db()
    assert person.first_name == "Bruna"
    assert person.custom_fields["zip_code"] == "97209"
    assert person.custom_fields["shoe_size"] == 11
    assert any("custom_fields.zip_code" in note and "first_name" in note for note in event.notes)


def test_a_number_belonging_to_another_person_is_noted_and_the_rest_applied(client):
    make_person(external_person_id="crm-bruno-02")
    make_person(external_person_id="someone-else", mdn="+12015550142")

    event = deliver(client, callback_body("person_added"))

    assert event.status == CallbackStatus.PROCESSED
    person = Person.objects.get(external_person_id="crm-bruno-02")
    assert person.mdn is None
    assert person.first_name == "Bruno"
    assert any("belongs to another CRM person" in note for note in event.notes)


def test_invalid_values_are_noted_not_fatal(client):
    body = _person_body()
    body["person"]["custom_fields"].update(
        email="not-an-email", shoe_size="large", interests=["knitting"]
    )

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED
    person = Person.objects.get()
    assert person.email == ""
    assert "shoe_size" not in person.custom_fields
    assert "interests" not in person.custom_fields
    assert len([n for n in event.notes if "Not stored" in n or "not stored" in n]) == 3


def test_the_complete_state_clears_synced_fields_vibes_no_longer_has(client):
    person = make_person(
        external_person_id="crm-bruno-02", custom_fields={"internal_score": 7, "shoe_size": 9}
    )
    body = _person_body()
    del body["person"]["custom_fields"]["shoe_size"]

    deliver(client, body)

    person.refresh_from_db()
    assert "shoe_size" not in person.custom_fields
    assert person.custom_fields["internal_score"] == 7


def test_a_removed_number_is_removed(client):
    person = make_person(external_person_id="crm-bruno-02", mdn="+12015550142")

    deliver(client, _person_body(mobile_phone=None))

    person.refresh_from_db()
    assert person.mdn is None


def test_a_generated_external_id_gives_way_to_the_one_vibes_learns(client):
    deliver(client, callback_body("subscription_added_keyword_joiner"))
    assert Person.objects.get().external_person_id == "vibes-PK-KEYWORD-77"

    body = _person_body(person_key="PK-KEYWORD-77", external_person_id="crm-kw-77")
    body["person"]["mobile_phone"] = {"mdn": "+12015550177"}
    deliver(client, body)

    person = Person.objects.get()
    assert person.external_person_id == "crm-kw-77"
    assert person.external_id_in_vibes is True
    assert str(person.mdn) == "+12015550177"


def test_a_crm_external_id_is_never_replaced(client):
    make_person(external_person_id="crm-original", person_key="PK-BRUNO-02")

    event = deliver(client, callback_body("person_added"))

    assert Person.objects.get().external_person_id == "crm-original"
    assert any("kept the CRM's" in note for note in event.notes)


def test_nul_characters_in_values_are_dropped_not_fatal(client):
    body = _person_body()
    body["person"]["custom_fields"]["zip_code"] = "981\x0001"
    body["person"]["custom_fields"]["first_name"] = "Bru\x00no"

    event = deliver(client, body)

    assert event.status == CallbackStatus.PROCESSED
    person = Person.objects.get()
    assert person.first_name == "Bruno"
    assert person.custom_fields["zip_code"] == "98101"
