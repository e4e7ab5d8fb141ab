"""Reads used by the preference center, the callbacks and the admin."""

import pytest

from crm import selectors, services
from crm.choices import Source, SubscriptionState
from crm.models import Person
from tests.fixtures.builders import make_custom_field, make_list, make_person

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


def test_search_does_not_match_the_middle_of_a_name(stored):
    assert list(selectors.person_search("opper")) == []


def test_preference_lists_and_subscriber_fields_in_order():
    second = make_list(name="B", order=2)
    first = make_list(name="A", order=1)
    make_list(name="Hidden", shown_in_preference_center=False)
    assert list(selectors.preference_lists()) == [first, second]
    shown = make_custom_field(key="zip", order=2)
    make_custom_field(key="score", visible_to_subscribers=False)
    earlier = make_custom_field(key="birthday", order=1)
    assert list(selectors.subscriber_custom_fields()) == [earlier, shown]
    assert set(selectors.custom_field_definitions()) == {"zip", "score", "birthday"}


def test_person_subscription_states(person):
    deals, news, never = make_list(), make_list(), make_list()
    services.subscription_change(
        person=person,
        subscription_list=deals,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.STAFF,
    )
    services.subscription_change(
        person=person,
        subscription_list=news,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.STAFF,
    )
    services.subscription_leave(person=person, subscription_list=news, source=Source.STAFF)
    states = selectors.person_subscription_states(person)
    assert states == {
        deals.pk: SubscriptionState.SUBSCRIBED,
        news.pk: SubscriptionState.UNSUBSCRIBED,
    }
    assert never.pk not in states
    assert selectors.person_subscribed_list_ids(person) == {deals.pk}
    assert [e.subscription_list for e in selectors.person_consent_history(person)] == [
        news,
        news,
        deals,
    ]
