"""Reads used by the preference center, the callbacks and the admin."""

import pytest

from crm import selectors
from crm.models import Person
from tests.fixtures.builders import make_custom_field, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored():
    # Stored as it would be after an import from a system that did not check area codes.
    person = make_person(first_name="Grace", last_name="Hopper", email="grace@example.com")
    Person.objects.filter(pk=person.pk).update(mdn="+12995551234", person_key="pk-grace")
    person.refresh_from_db()
    return person


@pytest.mark.parametrize(
    "raw", ["(299) 555-1234", "299.555.1234", "+1 299 555 1234", "2995551234", "+12995551234"]
)
def test_find_by_mdn_in_any_common_format(stored, raw):
    assert selectors.person_find_by_mdn(raw) == stored


@pytest.mark.parametrize("raw", ["", None, "Grace", "(299) 555-9999"])
def test_find_by_mdn_finds_nobody_for_other_input(stored, raw):
    assert selectors.person_find_by_mdn(raw) is None


def test_get_by_ids(stored):
    assert selectors.person_get_by_external_id(stored.external_person_id) == stored
    assert selectors.person_get_by_external_id(" ") is None
    assert selectors.person_get_by_person_key("pk-grace") == stored
    assert selectors.person_get_by_person_key("") is None


@pytest.mark.parametrize(
    "term",
    [
        "(299) 555-1234",
        "299.555.1234",
        "+1 299 555 1234",
        "pk-grace",
        "GRACE@example.com",
        "grace",
        "Hop",
        "Grace Hopper",
        "  grace   hop ",
    ],
)
def test_search_finds_the_person(stored, term):
    make_person(first_name="Alan", last_name="Turing", email="alan@example.com")
    assert list(selectors.person_search(term)) == [stored]


def test_search_by_external_id(stored):
    assert list(selectors.person_search(stored.external_person_id)) == [stored]


@pytest.mark.parametrize(
    "term",
    [
        "1234",
        "5551234",
        "555-1234",
        "555 1234",
        "opper",
        "RAC",
        "ace@exa",
        "example.com",
        "race ppe",
    ],
)
def test_search_finds_the_person_by_a_part(stored, term):
    """The last four or more digits of the number, any part of an email or a name."""
    make_person(first_name="Alan", last_name="Turing", email="alan@elsewhere.org")
    assert list(selectors.person_search(term)) == [stored]


@pytest.mark.parametrize("term", ["234", "2995", "12-34x", "op", "ra", "@x"])
def test_search_does_not_match_too_short_or_other_parts(stored, term):
    """Fewer than four digits are not a number's end, the start of a number is not its end,
    and a part shorter than three characters only matches the start of a name or email."""
    assert list(selectors.person_search(term)) == []


def test_a_suffix_finds_every_number_that_ends_with_it(stored):
    other = make_person(first_name="Alan", last_name="Turing", email="alan@elsewhere.org")
    Person.objects.filter(pk=other.pk).update(mdn="+12015551234")
    third = make_person(first_name="Ada", last_name="Lovelace", email="ada@elsewhere.org")
    Person.objects.filter(pk=third.pk).update(mdn="+12015554321")
    assert set(selectors.person_search("1234")) == {stored, other}
    assert list(selectors.person_search("99-555-1234")) == [stored]


def test_custom_field_definitions_by_key():
    make_custom_field(key="zip", order=2)
    make_custom_field(key="score", visible_to_subscribers=False)
    make_custom_field(key="birthday", order=1)
    assert set(selectors.custom_field_definitions()) == {"zip", "score", "birthday"}
