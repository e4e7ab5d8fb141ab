"""The database itself refuses duplicates and impossible values, whatever code writes."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm.choices import ConsentAction, OptInStatus, Source
from crm.models import (
    ConsentEvent,
    CustomField,
    OptInRequest,
    Person,
    Subscription,
    SubscriptionList,
)
from tests.fixtures.builders import make_list, make_person

pytestmark = pytest.mark.django_db


def _refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_external_person_id_is_unique():
    Person.objects.create(external_person_id="crm-1")
    _refused(lambda: Person.objects.create(external_person_id="crm-1"))


def test_person_key_is_unique_but_may_be_missing_for_many():
    Person.objects.create(external_person_id="a", person_key="pk-1")
    Person.objects.create(external_person_id="b", person_key=None)
    Person.objects.create(external_person_id="c", person_key=None)
    _refused(lambda: Person.objects.create(external_person_id="d", person_key="pk-1"))


def test_mdn_is_unique_but_may_be_missing_for_many():
    Person.objects.create(external_person_id="a", mdn="+12015550100")
    Person.objects.create(external_person_id="b", mdn=None)
    Person.objects.create(external_person_id="c", mdn=None)
    _refused(lambda: Person.objects.create(external_person_id="d", mdn="+12015550100"))


@pytest.mark.parametrize(
    "values",
    [
        {"external_person_id": ""},
        {"external_person_id": "x", "person_key": ""},
        {"external_person_id": "x", "mdn": ""},
    ],
    ids=["external_person_id", "person_key", "mdn"],
)
def test_empty_identifiers_are_refused(values):
    # An empty string would be a value that several persons could share.
    _refused(lambda: Person.objects.bulk_create([Person(**values)]))


def test_custom_field_key_is_unique():
    CustomField.objects.create(key="shoe_size", label="Shoe size")
    _refused(lambda: CustomField.objects.create(key="shoe_size", label="Again"))


def test_list_id_is_unique():
    SubscriptionList.objects.create(list_id="1001", name="Deals")
    _refused(lambda: SubscriptionList.objects.create(list_id="1001", name="Deals again"))


def test_one_subscription_per_person_and_list():
    person = make_person()
    subscription_list = make_list()
    Subscription.objects.create(
        person=person, subscription_list=subscription_list, source=Source.STAFF
    )
    _refused(
        lambda: Subscription.objects.create(
            person=person, subscription_list=subscription_list, source=Source.STAFF
        )
    )


def test_subscription_state_must_be_known():
    person = make_person()
    subscription_list = make_list()
    _refused(
        lambda: Subscription.objects.bulk_create(
            [
                Subscription(
                    person=person,
                    subscription_list=subscription_list,
                    source=Source.STAFF,
                    state="maybe",
                )
            ]
        )
    )


def test_consent_action_must_be_known():
    person = make_person()
    subscription_list = make_list()
    _refused(
        lambda: ConsentEvent.objects.bulk_create(
            [
                ConsentEvent(
                    person=person,
                    subscription_list=subscription_list,
                    action="shrugged",
                    source=Source.STAFF,
                    occurred_at=timezone.now(),
                )
            ]
        )
    )
    ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(
                person=person,
                subscription_list=subscription_list,
                action=ConsentAction.OPTED_IN,
                source=Source.STAFF,
                occurred_at=timezone.now(),
            )
        ]
    )
    assert ConsentEvent.objects.count() == 1


def _indexes(table: str) -> list[dict]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [c for c in constraints.values() if c["index"] or c["unique"]]


def _has_index(table: str, columns: list[str], *, unique: bool = False) -> bool:
    return any(
        c["columns"][: len(columns)] == columns and (c["unique"] or not unique)
        for c in _indexes(table)
    )


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("crm_person", ["external_person_id"]),
        ("crm_person", ["person_key"]),
        ("crm_person", ["mdn"]),
        ("crm_subscriptionlist", ["list_id"]),
        ("crm_customfield", ["key"]),
        ("crm_subscription", ["person_id", "subscription_list_id"]),
    ],
)
def test_every_callback_lookup_has_a_unique_index(table, columns):
    assert _has_index(table, columns, unique=True)


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("crm_subscription", ["subscription_list_id", "state"]),
        ("crm_optinrequest", ["mdn"]),
        ("crm_optinrequest", ["person_id", "subscription_list_id", "status"]),
        ("crm_consentevent", ["person_id", "subscription_list_id", "occurred_at"]),
        ("crm_consentevent", ["reference"]),
        ("crm_person", ["created_at"]),
    ],
)
def test_other_lookups_have_an_index(table, columns):
    assert _has_index(table, columns)


def test_person_search_indexes_exist():
    with connection.cursor() as cursor:
        names = set(connection.introspection.get_constraints(cursor, "crm_person"))
    assert {
        "crm_person_first_name_search",
        "crm_person_last_name_search",
        "crm_person_email_search",
    } <= names


def test_one_open_web_opt_in_per_person_and_list():
    person = make_person()
    subscription_list = make_list()

    def request(status):
        return OptInRequest.objects.create(
            person=person,
            subscription_list=subscription_list,
            mdn="+12015550100",
            status=status,
            source=Source.PREFERENCE_CENTER,
        )

    request(OptInStatus.EXPIRED)
    request(OptInStatus.REJECTED)
    request(OptInStatus.REQUESTED)
    _refused(lambda: request(OptInStatus.PENDING))
    _refused(lambda: request(OptInStatus.REQUESTED))
    assert OptInRequest.objects.count() == 3
