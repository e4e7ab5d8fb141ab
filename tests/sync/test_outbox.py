"""The outbox is written in the service's transaction, coalesces, and ignores Vibes' own
changes."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from crm import services
from crm.choices import OptInStatus, Source, SubscriptionState
from tests.fixtures.builders import make_custom_field, make_list, make_person
from vibes_integration.sync.choices import OperationKind, OperationStatus
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db


def test_person_create_writes_one_operation_and_one_task():
    person = make_person(first_name="Ada")
    [operation] = Operation.objects.filter(person=person)
    assert operation.kind == OperationKind.PERSON
    assert operation.status == OperationStatus.PENDING
    assert operation.source == Source.STAFF
    assert DBTaskResult.objects.filter(task_path__endswith="process_operations").count() == 1


def test_fifty_edits_while_pending_coalesce_into_one_operation():
    person = make_person(first_name="Ada")
    for n in range(50):
        services.person_update(person=person, source=Source.PREFERENCE_CENTER, first_name=f"A{n}")
    [operation] = Operation.objects.filter(person=person)
    assert operation.edits == 51
    assert operation.source == Source.PREFERENCE_CENTER
    assert DBTaskResult.objects.filter(task_path__endswith="process_operations").count() == 1


def test_rolled_back_change_leaves_no_operation_and_no_task():
    person = make_person()
    Operation.objects.all().delete()
    DBTaskResult.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.person_update(person=person, source=Source.STAFF, last_name="Byron")
        raise RuntimeError("the request failed after the change")
    assert not Operation.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_changes_from_vibes_are_never_queued():
    person = make_person()
    subscription_list = make_list()
    Operation.objects.all().delete()
    services.person_update(person=person, source=Source.VIBES, first_name="From", person_key="k1")
    services.subscription_change(
        person=person,
        subscription_list=subscription_list,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )
    services.subscription_leave(
        person=person, subscription_list=subscription_list, source=Source.VIBES
    )
    assert not Operation.objects.exists()


def test_unsynced_custom_field_change_is_not_queued():
    make_custom_field(key="internal_score", synced_to_vibes=False)
    make_custom_field(key="zip_code")
    person = make_person()
    Operation.objects.all().delete()
    services.person_update(
        person=person, source=Source.STAFF, custom_fields={"internal_score": "7"}
    )
    assert not Operation.objects.exists()
    services.person_update(person=person, source=Source.STAFF, custom_fields={"zip_code": "98101"})
    assert Operation.objects.filter(kind=OperationKind.PERSON).count() == 1


def test_number_removal_is_remembered_on_the_waiting_operation():
    person = make_person(mdn="+12015550111")
    services.person_update(person=person, source=Source.STAFF, first_name="X")
    services.person_update(person=person, source=Source.STAFF, mdn=None)
    [operation] = Operation.objects.filter(person=person)
    assert operation.remove_mdn is True


def test_opt_in_and_leave_are_queued_in_order():
    person = make_person()
    subscription_list = make_list()
    Operation.objects.all().delete()
    [request] = services.opt_in_request(
        person=person,
        mdn="+12015550112",
        subscription_lists=[subscription_list],
        source=Source.PREFERENCE_CENTER,
    )
    assert request.status == OptInStatus.REQUESTED
    services.subscription_leave(
        person=person, subscription_list=subscription_list, source=Source.PREFERENCE_CENTER
    )
    kinds = list(Operation.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == [OperationKind.OPT_IN, OperationKind.UNSUBSCRIBE]
