"""The page's database work must not grow with the catalogue (lists, custom fields)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import services
from crm.choices import CustomFieldType, Source, SubscriptionState
from prefcenter.preferences.tokens import preference_path
from tests.fixtures.builders import make_custom_field, make_list, make_person

FIELD_TYPES = [
    (CustomFieldType.TEXT, []),
    (CustomFieldType.NUMBER, []),
    (CustomFieldType.DATE, []),
    (CustomFieldType.BOOLEAN, []),
    (CustomFieldType.CHOICE, [{"key": "a", "label": "A"}, {"key": "b", "label": "B"}]),
    (CustomFieldType.MULTIPLE_CHOICE, [{"key": "x", "label": "X"}, {"key": "y", "label": "Y"}]),
]
SAMPLE_VALUES = {
    CustomFieldType.TEXT: "hello",
    CustomFieldType.NUMBER: 3,
    CustomFieldType.DATE: "2020-01-31",
    CustomFieldType.BOOLEAN: True,
    CustomFieldType.CHOICE: "b",
    CustomFieldType.MULTIPLE_CHOICE: ["x"],
}


def _grow_catalogue(person, *, lists: int, fields: int, created: dict) -> None:
    """Add lists and fields until there are ``lists`` and ``fields``, with the person on
    some lists, pending on others, and a value in every field."""
    while len(created["lists"]) < lists:
        n = len(created["lists"])
        subscription_list = make_list(list_id=f"q{n}", name=f"List {n}", description="About it.")
        created["lists"].append(subscription_list)
        if n % 3 == 0:
            services.subscription_change(
                person=person,
                subscription_list=subscription_list,
                state=SubscriptionState.SUBSCRIBED,
                source=Source.VIBES,
            )
        elif n % 3 == 1:
            services.opt_in_request(
                person=person,
                mdn="+12015550101",
                subscription_lists=[subscription_list],
                source=Source.PREFERENCE_CENTER,
            )
    values = {}
    while len(created["fields"]) < fields:
        n = len(created["fields"])
        field_type, options = FIELD_TYPES[n % len(FIELD_TYPES)]
        field = make_custom_field(
            key=f"f{n}", label=f"Field {n}", field_type=field_type, options=options
        )
        created["fields"].append(field)
        values[field.key] = SAMPLE_VALUES[field_type]
    if values:
        services.person_update(person=person, source=Source.STAFF, custom_fields=values)


def _count(client, method: str, path: str, data: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
    assert response.status_code in (200, 303), response.status_code
    return len(queries)


def _details(person, fields) -> dict:
    data = {
        "action": "details",
        "details-first_name": "Changed",
        "details-last_name": "",
        "details-email": "",
    }
    for field in fields:
        value = SAMPLE_VALUES[field.field_type]
        if field.field_type == CustomFieldType.BOOLEAN:
            value = "yes"
        data[f"details-cf_{field.key}"] = value
    return data


def test_queries_do_not_grow_with_lists_and_custom_fields(client, db):
    person = make_person(first_name="Q", email="q@example.com")
    path = preference_path(person)
    created = {"lists": [], "fields": []}

    _grow_catalogue(person, lists=2, fields=3, created=created)
    client.get(path)  # warm caches that are not per request (content types, templates)
    small_get = _count(client, "get", path)
    small_post = _count(client, "post", path, _details(person, created["fields"]))
    small_after = _count(client, "get", path)  # the page with its "saved" message

    _grow_catalogue(person, lists=20, fields=30, created=created)
    services.person_update(person=person, source=Source.STAFF, first_name="Q")
    large_get = _count(client, "get", path)
    large_post = _count(client, "post", path, _details(person, created["fields"]))
    large_after = _count(client, "get", path)

    page = client.get(path).content.decode()
    assert page.count('class="list-item ') == 20
    assert page.count('name="details-cf_') >= 30

    assert small_get == large_get
    assert small_post == large_post
    assert small_after == large_after
    assert large_get <= 6
