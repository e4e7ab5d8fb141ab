"""Staff see each person's sync state and the dashboard, and can resync and retry."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from crm.models import Person
from tests.fixtures.builders import make_custom_field, make_person
from tests.sync.conftest import settle
from vibes_integration.sync.choices import OperationKind, OperationStatus
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db


def test_person_page_shows_the_sync_state_with_the_reason(admin_client, vibes_sandbox):
    make_custom_field(key="shoe_colour")  # Vibes does not define it: 422
    person = make_person(first_name="Ada", custom_fields={"shoe_colour": "red"})
    url = reverse("admin:crm_person_change", args=[person.pk])
    assert "Pending" in admin_client.get(url).content.decode()
    settle()
    page = admin_client.get(url).content.decode()
    assert "vibes-sync-failed" in page
    assert "Unknown custom field: shoe_colour" in page


def test_dashboard_shows_the_numbers_staff_need(admin_client, vibes_sandbox, settings):
    settings.VIBES_SYNC_MAX_ATTEMPTS = 1
    make_person(first_name="Waiting")
    vibes_sandbox.control.set_faults(fail_next=[503])
    make_person(first_name="Failing")
    settle()
    make_person(first_name="Pending")
    response = admin_client.get(reverse("admin:vibes_sync_dashboard"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<dd id="vibes-sync-pending">1</dd>' in page
    assert '<dd id="vibes-sync-failed">1</dd>' in page
    assert '<dd id="vibes-sync-conflicts">0</dd>' in page
    assert '<dd id="vibes-sync-callback-backlog">0</dd>' in page
    assert "ago" in page  # the last successful call
    assert "Retry all failed operations" in page
    assert "HTTP 503" in page  # the failure's reason, listed


def test_dashboard_retry_button_sends_failed_work_again(admin_client, vibes_sandbox, settings):
    settings.VIBES_SYNC_MAX_ATTEMPTS = 1
    vibes_sandbox.control.set_faults(fail_next=[503])
    make_person(first_name="Again")
    settle()
    response = admin_client.post(
        reverse("admin:vibes_sync_dashboard"), {"retry_failed": "1"}, follow=True
    )
    assert "1 failed operation will be sent again." in response.content.decode()
    settle()
    assert Operation.objects.get().status == OperationStatus.DONE


def test_resync_action_on_persons(admin_client, vibes_sandbox):
    persons = [make_person(first_name=f"R{n}") for n in range(3)]
    settle()
    response = admin_client.post(
        reverse("admin:crm_person_changelist"),
        {"action": "resync_persons", "_selected_action": [p.pk for p in persons[:2]]},
        follow=True,
    )
    assert "2 persons will be sent to Vibes again." in response.content.decode()
    pending = Operation.objects.filter(status=OperationStatus.PENDING)
    assert sorted(op.person_id for op in pending) == sorted(p.pk for p in persons[:2])
    assert {op.kind for op in pending} == {OperationKind.PERSON}
    settle()
    assert not Operation.objects.filter(status=OperationStatus.PENDING).exists()


def test_retry_action_on_operations_and_read_only_records(admin_client, vibes_sandbox, settings):
    settings.VIBES_SYNC_MAX_ATTEMPTS = 1
    vibes_sandbox.control.set_faults(fail_next=[503])
    make_person(first_name="Op")
    settle()
    operation = Operation.objects.get()
    changelist = reverse("admin:vibes_sync_operation_changelist")
    assert "Sync dashboard" in admin_client.get(changelist).content.decode()
    response = admin_client.post(
        changelist,
        {"action": "retry_operations", "_selected_action": [operation.pk]},
        follow=True,
    )
    assert "1 operation will be sent again." in response.content.decode()
    settle()
    operation.refresh_from_db()
    assert operation.status == OperationStatus.DONE
    detail = admin_client.get(reverse("admin:vibes_sync_operation_change", args=[operation.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    calls = admin_client.get(reverse("admin:vibes_sync_outboundcall_changelist"))
    assert calls.status_code == 200 and "add_person" in calls.content.decode()
    assert Person.objects.count() == 1


def _offered(client, url) -> set[str]:
    form = client.get(url).context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def test_resync_and_retry_need_their_permissions(client):
    persons = reverse("admin:crm_person_changelist")
    operations = reverse("admin:vibes_sync_operation_changelist")
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_person", "view_operation"])
    )
    client.force_login(viewer)
    assert _offered(client, persons) == set()
    assert _offered(client, operations) == set()

    person = make_person(first_name="Forged")
    before = list(Operation.objects.values_list("pk", "status", "edits", "updated_at"))
    client.post(persons, {"action": "resync_persons", "_selected_action": [person.pk], "index": 0})
    assert list(Operation.objects.values_list("pk", "status", "edits", "updated_at")) == before

    operator = User.objects.create_user("operator", is_staff=True)
    operator.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_person", "resync", "view_operation", "change_operation"]
        )
    )
    client.force_login(operator)
    assert _offered(client, persons) == {"resync_persons"}
    assert _offered(client, operations) == {"retry_operations"}
