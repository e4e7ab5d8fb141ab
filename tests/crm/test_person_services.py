"""Creating and changing persons: validation that names the field, all or nothing, signals."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models.signals import pre_save

from crm import services
from crm.choices import CustomFieldType, Source
from crm.models import Person
from tests.fixtures.builders import make_custom_field, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def custom_fields(db):
    return {
        "nickname": make_custom_field(key="nickname", field_type=CustomFieldType.TEXT),
        "shoe_size": make_custom_field(key="shoe_size", field_type=CustomFieldType.NUMBER),
        "birthday": make_custom_field(key="birthday", field_type=CustomFieldType.DATE),
        "loyal": make_custom_field(key="loyal", field_type=CustomFieldType.BOOLEAN),
        "store": make_custom_field(
            key="store",
            field_type=CustomFieldType.CHOICE,
            options=[{"key": "seattle", "label": "Seattle"}, {"key": "boise", "label": "Boise"}],
        ),
        "interests": make_custom_field(
            key="interests",
            field_type=CustomFieldType.MULTIPLE_CHOICE,
            options=[
                {"key": "hiking", "label": "Hiking"},
                {"key": "paddling", "label": "Paddling"},
            ],
        ),
    }


def test_person_create_normalises_and_announces(signal_log, custom_fields):
    person = services.person_create(
        external_person_id="  crm-1 ",
        source=Source.IMPORT,
        first_name=" Ada ",
        last_name="Lovelace",
        email="ada@example.com",
        mdn="(201) 555-0123",
        custom_fields={
            "nickname": " Countess ",
            "shoe_size": "7.5",
            "birthday": datetime.date(1815, 12, 10),
            "loyal": "yes",
            "store": "seattle",
            "interests": "hiking, paddling",
        },
    )
    person.refresh_from_db()
    assert person.external_person_id == "crm-1"
    assert person.first_name == "Ada"
    assert str(person.mdn) == "+12015550123"
    assert person.custom_fields == {
        "nickname": "Countess",
        "shoe_size": 7.5,
        "birthday": "1815-12-10",
        "loyal": True,
        "store": "seattle",
        "interests": ["hiking", "paddling"],
    }
    [call] = signal_log.of("person_changed")
    assert call["person"] == person
    assert call["created"] is True
    assert call["source"] == Source.IMPORT
    assert {"external_person_id", "mdn", "custom_fields.store"} <= call["changed_fields"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"external_person_id": "  "}, "external_person_id"),
        ({"external_person_id": "x" * 129}, "external_person_id"),
        ({"email": "not-an-address"}, "email"),
        ({"mdn": "+1 299 555 1234"}, "mdn"),  # 299 is no real area code
        ({"mdn": "call me"}, "mdn"),
        ({"first_name": "A" * 151}, "first_name"),
        ({"last_name": "L" * 151}, "last_name"),
        ({"source": "carrier pigeon"}, "source"),
        ({"custom_fields": {"unknown": 1}}, "custom_fields.unknown"),
        ({"custom_fields": {"shoe_size": "big"}}, "custom_fields.shoe_size"),
        ({"custom_fields": {"birthday": "tomorrow"}}, "custom_fields.birthday"),
        ({"custom_fields": {"loyal": "perhaps"}}, "custom_fields.loyal"),
        ({"custom_fields": {"store": "paris"}}, "custom_fields.store"),
        ({"custom_fields": {"interests": ["hiking", "golf"]}}, "custom_fields.interests"),
        ({"custom_fields": ["hiking"]}, "custom_fields"),
    ],
)
def test_person_create_bad_input_names_the_field_and_writes_nothing(
    arguments, field, signal_log, custom_fields
):
    values = {"external_person_id": "crm-1", "source": Source.STAFF, **arguments}
    with pytest.raises(ValidationError) as caught:
        services.person_create(**values)
    assert field in caught.value.message_dict
    assert not Person.objects.exists()
    assert signal_log.calls == []


@pytest.mark.parametrize("field", ["external_person_id", "mdn", "person_key"])
def test_person_create_refuses_a_taken_identifier(field, signal_log):
    taken = {"external_person_id": "crm-1", "mdn": "+12015550100", "person_key": "pk-1"}
    make_person(**taken)
    signal_log.calls.clear()
    values = {"external_person_id": "crm-2", field: taken[field]}
    with pytest.raises(ValidationError) as caught:
        services.person_create(source=Source.STAFF, **values)
    assert field in caught.value.message_dict
    assert Person.objects.count() == 1
    assert signal_log.calls == []


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_writer_taking_the_number_still_gives_a_field_error(signal_log):
    """Between the service's uniqueness check and its write, another transaction takes
    the number and commits; the database refuses ours and the error still names the field."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer at a time in: no other can get in between")

    def other_writer():
        try:
            Person.objects.create(external_person_id="elsewhere", mdn="+12015550100")
        finally:
            connections.close_all()

    def take_the_number_first(sender, instance, **kwargs):
        if instance.external_person_id == "crm-2":
            thread = threading.Thread(target=other_writer)
            thread.start()
            thread.join()

    pre_save.connect(take_the_number_first, sender=Person, dispatch_uid="race")
    try:
        with pytest.raises(ValidationError) as caught:
            services.person_create(
                external_person_id="crm-2", mdn="+12015550100", source=Source.STAFF
            )
    finally:
        pre_save.disconnect(dispatch_uid="race")
    assert "mdn" in caught.value.message_dict
    assert not Person.objects.filter(external_person_id="crm-2").exists()
    assert signal_log.of("person_changed") == []


def test_person_update_writes_only_what_changed(signal_log, custom_fields):
    person = make_person(first_name="Ada", email="ada@example.com", mdn="+12015550100")
    signal_log.calls.clear()
    change = services.person_update(
        person=person,
        source=Source.VIBES,
        first_name="Ada",
        email="ada@lovelace.example",
        mdn="201.555.0199",
    )
    assert change.changed_fields == {"email", "mdn"}
    assert change.person.email == "ada@lovelace.example"
    assert str(change.person.mdn) == "+12015550199"
    [call] = signal_log.of("person_changed")
    assert call["source"] == Source.VIBES
    assert call["previous_mdn"] == "+12015550100"
    assert call["created"] is False


def test_person_update_merges_custom_fields_and_none_clears(signal_log, custom_fields):
    person = make_person(custom_fields={"nickname": "Ada", "shoe_size": 7})
    signal_log.calls.clear()
    change = services.person_set_custom_fields(
        person=person, values={"nickname": None, "store": "boise"}, source=Source.STAFF
    )
    assert change.person.custom_fields == {"shoe_size": 7, "store": "boise"}
    assert change.changed_fields == {"custom_fields.nickname", "custom_fields.store"}
    person.refresh_from_db()
    assert person.custom_fields == {"shoe_size": 7, "store": "boise"}


def test_person_update_that_changes_nothing_announces_nothing(signal_log, custom_fields):
    person = make_person(first_name="Ada", custom_fields={"shoe_size": 7})
    signal_log.calls.clear()
    change = services.person_update(
        person=person, source=Source.STAFF, first_name="Ada", custom_fields={"shoe_size": "7"}
    )
    assert change.changed_fields == frozenset()
    assert signal_log.calls == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"mdn": "12"}, "mdn"),
        ({"external_person_id": ""}, "external_person_id"),
        ({"custom_fields": {"shoe_size": "huge"}}, "custom_fields.shoe_size"),
        ({"custom_fields": "shoe_size=7"}, "custom_fields"),
        ({"source": ""}, "source"),
    ],
)
def test_person_update_bad_input_leaves_the_person_as_it_was(
    arguments, field, signal_log, custom_fields
):
    person = make_person(first_name="Ada", email="ada@example.com", mdn="+12015550100")
    signal_log.calls.clear()
    values = {"person": person, "source": Source.STAFF, "first_name": "Changed", **arguments}
    with pytest.raises(ValidationError) as caught:
        services.person_update(**values)
    assert field in caught.value.message_dict
    person.refresh_from_db()
    assert person.first_name == "Ada"
    assert person.email == "ada@example.com"
    assert str(person.mdn) == "+12015550100"
    assert signal_log.calls == []


def test_person_update_refuses_a_number_another_person_has(signal_log):
    make_person(mdn="+12015550100")
    person = make_person(mdn="+12015550101")
    with pytest.raises(ValidationError) as caught:
        services.person_update(person=person, source=Source.STAFF, mdn="+12015550100")
    assert "mdn" in caught.value.message_dict
    person.refresh_from_db()
    assert str(person.mdn) == "+12015550101"


def test_person_update_can_remove_the_number(signal_log):
    person = make_person(mdn="+12015550100")
    change = services.person_update(person=person, source=Source.STAFF, mdn=None)
    assert change.person.mdn is None
    assert signal_log.of("person_changed")[-1]["previous_mdn"] == "+12015550100"


def test_rotating_the_link_secret_revokes_old_links():
    person = make_person()
    old = person.link_secret
    services.person_rotate_link_secret(person=person)
    assert person.link_secret != old
    person.refresh_from_db()
    assert person.link_secret != old
