"""Persons through the API: upsert by external id, typed custom fields, filters, pages."""

from __future__ import annotations

import pytest

from crm import services
from crm.choices import CustomFieldType, Source, SubscriptionState
from crm.models import Person
from tests.fixtures.builders import make_custom_field, make_list, make_person
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db


def test_put_by_external_id_creates_then_updates(api):
    make_custom_field(key="shoe_size", field_type=CustomFieldType.NUMBER)
    created = api.put(
        "/api/v1/persons/external/crm-1/",
        {"first_name": "Ada", "custom_fields": {"shoe_size": "41"}},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["external_person_id"] == "crm-1"
    assert created.json()["custom_fields"] == {"shoe_size": 41}
    updated = api.put("/api/v1/persons/external/crm-1/", {"last_name": "Lovelace"}, format="json")
    assert updated.status_code == 200
    person = Person.objects.get(external_person_id="crm-1")
    assert (person.first_name, person.last_name) == ("Ada", "Lovelace")
    assert Operation.objects.filter(source=Source.API).exists()


def test_custom_field_values_are_checked_against_their_definition(api):
    make_custom_field(key="shoe_size", field_type=CustomFieldType.NUMBER)
    person = make_person()
    response = api.patch(
        f"/api/v1/persons/{person.pk}/",
        {"custom_fields": {"shoe_size": "big", "nope": 1}},
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["title"] == "Invalid request"
    pointers = {error["pointer"]: error["detail"] for error in body["errors"]}
    assert pointers["#/custom_fields/shoe_size"] == "Enter a number using digits only, like 3."
    assert "#/custom_fields/nope" in pointers
    person.refresh_from_db()
    assert person.custom_fields == {}


def test_read_by_id_and_by_external_id(api):
    person = make_person(first_name="Grace")
    by_id = api.get(f"/api/v1/persons/{person.pk}/").json()
    by_external = api.get(f"/api/v1/persons/external/{person.external_person_id}/").json()
    assert by_id == by_external
    assert by_id["first_name"] == "Grace"
    missing = api.get("/api/v1/persons/external/nobody/")
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:prefcenter:problem:not-found"


def test_list_pages_with_a_cursor_and_filters_by_list_and_state(api):
    deals = make_list(list_id="2001")
    persons = [make_person() for _ in range(5)]
    for person in persons[:2]:
        services.subscription_change(
            person=person,
            subscription_list=deals,
            state=SubscriptionState.SUBSCRIBED,
            source=Source.STAFF,
        )
    seen, url = [], "/api/v1/persons/?page_size=2"
    while url:
        page = api.get(url).json()
        assert len(page["results"]) <= 2
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(p.pk for p in persons)
    subscribed = api.get("/api/v1/persons/?list=2001&state=subscribed").json()["results"]
    assert [row["id"] for row in subscribed] == [persons[0].pk, persons[1].pk]
    assert subscribed[0]["subscriptions"][0]["state"] == "subscribed"
    others = api.get("/api/v1/persons/?list=2001&state=unsubscribed").json()["results"]
    assert [row["id"] for row in others] == [p.pk for p in persons[2:]]


def test_a_bad_filter_names_the_query_parameter(api):
    response = api.get("/api/v1/persons/?updated_since=yesterday&state=maybe")
    assert response.status_code == 400
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert pointers == {"?updated_since", "?state"}


def test_the_number_cannot_be_set_directly(api):
    person = make_person()
    response = api.patch(f"/api/v1/persons/{person.pk}/", {"mdn": "+12015550123"}, format="json")
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.mdn is None
