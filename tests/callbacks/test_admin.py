"""The callback log in the admin: filters, search, the raw body, replay and resolve."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm.models import Subscription
from tests.fixtures.callbacks import callback_body, deliver, process_callbacks
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_callbacks")]

CHANGELIST = reverse("admin:vibes_callbacks_callbackevent_changelist")


@pytest.fixture
def callback_log(client):
    """A STOP from a known number, a list event and a body that is not a callback."""
    from tests.fixtures.builders import make_person

    make_person(external_person_id="crm-alice-01", mdn="+12015550101")
    deliver(client, callback_body("subscription_added"))
    deliver(client, callback_body("subscription_removed_stop"))
    deliver(client, callback_body("subscription_list_added"))
    deliver(client, {"event_id": "evt-broken-1", "callback_type": "subscription_added"})
    return {event.event_id: event for event in CallbackEvent.objects.all()}


def _listed(response) -> set[str]:
    return {event.event_id for event in response.context["cl"].result_list}


def test_filter_by_type_status_and_date(admin_client, callback_log):
    by_type = admin_client.get(CHANGELIST, {"callback_type": "subscription_removed"})
    assert _listed(by_type) == {"evt-sub-removed-0001"}

    by_status = admin_client.get(CHANGELIST, {"status__exact": "invalid"})
    assert _listed(by_status) == {"evt-broken-1"}

    # The "received" filter's ranges, as its "Today" link gives them (aware midnights).
    midnight = datetime.datetime.combine(
        callback_log["evt-list-added-0001"].received_at.date(), datetime.time(), datetime.UTC
    )
    day = datetime.timedelta(days=1)
    today = {"received_at__gte": str(midnight), "received_at__lt": str(midnight + day)}
    assert len(_listed(admin_client.get(CHANGELIST, today))) == 4
    yesterday = {"received_at__gte": str(midnight - day), "received_at__lt": str(midnight)}
    assert _listed(admin_client.get(CHANGELIST, yesterday)) == set()


def test_the_list_is_in_arrival_order_newest_first(admin_client, callback_log):
    listed = [event.pk for event in admin_client.get(CHANGELIST).context["cl"].result_list]
    assert listed == sorted((event.pk for event in callback_log.values()), reverse=True)


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("evt-sub-added-0001", {"evt-sub-added-0001"}),
        ("PK-ALICE-01", {"evt-sub-added-0001", "evt-sub-removed-0001"}),
        ("crm-alice-01", {"evt-sub-added-0001", "evt-sub-removed-0001"}),
        ("(201) 555-0101", {"evt-sub-added-0001", "evt-sub-removed-0001"}),
        ("2001", {"evt-list-added-0001"}),
        ("nobody", set()),
    ],
)
def test_search_by_event_id_person_number_and_list(admin_client, callback_log, term, expected):
    response = admin_client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    assert _listed(response) == expected


def test_the_list_masks_numbers(admin_client, callback_log):
    response = admin_client.get(CHANGELIST)
    content = response.content.decode()
    assert "+1•••••0101" in content
    assert "+12015550101" not in content


def test_the_detail_page_pretty_prints_the_raw_body(admin_client, callback_log):
    event = callback_log["evt-sub-removed-0001"]
    url = reverse("admin:vibes_callbacks_callbackevent_change", args=[event.pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    content = response.content.decode()
    assert '<pre class="vibes-callback-body">{\n  &quot;callback_id&quot;' in content
    assert "&quot;opt_out_reason&quot;: &quot;user_opt_out&quot;" in content
    assert "Save" not in content


def test_replay_action_processes_the_events_again(admin_client, callback_log):
    broken = callback_log["evt-broken-1"]
    process_callbacks()  # what the log's events left queued (the new list's registration job)

    response = admin_client.post(
        CHANGELIST,
        {"action": "replay", "_selected_action": [broken.pk]},
        follow=True,
    )

    assert "1 callback event will be processed again." in response.content.decode()
    assert process_callbacks() == 1
    broken.refresh_from_db()
    assert broken.attempts == 2
    assert broken.status == CallbackStatus.INVALID


def test_mark_resolved_asks_for_a_note_then_keeps_it(admin_client, callback_log):
    broken = callback_log["evt-broken-1"]
    fine = callback_log["evt-list-added-0001"]
    selection = {"action": "mark_resolved", "_selected_action": [broken.pk, fine.pk]}

    page = admin_client.post(CHANGELIST, {**selection, "index": "0"})

    html = page.content.decode()
    assert "Mark 2 callback events resolved?" in html
    assert '<textarea name="note"' in html
    assert "can be resolved" in html and "will be left as it is" in html
    broken.refresh_from_db()
    assert broken.status == CallbackStatus.INVALID

    without_note = admin_client.post(CHANGELIST, {**selection, "post": "yes", "note": "  "})
    assert "Write a note: what was done, and why." in without_note.content.decode()
    broken.refresh_from_db()
    assert broken.status == CallbackStatus.INVALID

    response = admin_client.post(
        CHANGELIST,
        {**selection, "post": "yes", "note": "Vibes confirmed the body was a test."},
        follow=True,
    )

    content = response.content.decode()
    assert "1 callback event marked resolved." in content
    assert "1 event was skipped" in content
    broken.refresh_from_db()
    assert broken.status == CallbackStatus.RESOLVED
    assert re.fullmatch(
        r"Marked resolved by admin at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(was invalid\)\. "
        r"Note: Vibes confirmed the body was a test\.",
        broken.notes[-1],
    )
    detail = admin_client.get(
        reverse("admin:vibes_callbacks_callbackevent_change", args=[broken.pk])
    )
    assert "Note: Vibes confirmed the body was a test." in detail.content.decode()
    fine.refresh_from_db()
    assert fine.status == CallbackStatus.PROCESSED


def test_an_event_stuck_in_received_can_be_resolved(admin_client, callback_log):
    stuck = CallbackEvent.objects.create(
        event_id="evt-stuck-1",
        callback_type="subscription_added",
        received_at=timezone.now() - datetime.timedelta(hours=1),
    )
    fresh = CallbackEvent.objects.create(event_id="evt-fresh-1", callback_type="subscription_added")

    admin_client.post(
        CHANGELIST,
        {
            "action": "mark_resolved",
            "_selected_action": [stuck.pk, fresh.pk],
            "post": "yes",
            "note": "Applied by hand in the CRM.",
        },
    )

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == CallbackStatus.RESOLVED
    assert "(was received). Note: Applied by hand in the CRM." in stuck.notes[-1]
    assert fresh.status == CallbackStatus.RECEIVED  # it may still be processed


@pytest.mark.parametrize(
    ("codename", "offered"),
    [
        ("view_callbackevent", set()),
        ("replay_callbackevent", {"replay"}),
        ("resolve_callbackevent", {"mark_resolved"}),
    ],
)
def test_each_action_needs_its_own_permission(client, callback_log, codename, offered):
    staff = User.objects.create_user("staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in={"view_callbackevent", codename})
    )
    client.force_login(staff)
    form = client.get(CHANGELIST).context["action_form"]
    choices = {name for name, _ in form.fields["action"].choices if name} if form else set()
    assert choices == offered


def test_staff_without_the_resolve_permission_can_look_but_not_act(client, callback_log):
    staff = User.objects.create_user("viewer", password="x-Pass-1234", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_callbackevent", "replay_callbackevent"])
    )
    client.force_login(staff)
    broken = callback_log["evt-broken-1"]

    for extra in ({"index": "0"}, {}):
        client.post(
            CHANGELIST,
            {
                "action": "mark_resolved",
                "_selected_action": [broken.pk],
                "select_across": "1",
                "post": "yes",
                "note": "forged",
                **extra,
            },
        )

    assert not CallbackEvent.objects.filter(status=CallbackStatus.RESOLVED).exists()
    assert Subscription.objects.count() == 1


def test_staff_without_the_replay_permission_can_look_but_not_act(client, callback_log):
    staff = User.objects.create_user("viewer", password="x-Pass-1234", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_callbackevent"))
    client.force_login(staff)

    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["action_form"] is None or not any(
        name in {"replay", "mark_resolved"}
        for name, _ in response.context["action_form"].fields["action"].choices
    )

    queued = DBTaskResult.objects.count()
    client.post(CHANGELIST, {"action": "mark_resolved", "_selected_action": [1]})
    client.post(CHANGELIST, {"action": "replay", "_selected_action": [1], "index": "0"})
    assert not CallbackEvent.objects.filter(status=CallbackStatus.RESOLVED).exists()
    assert DBTaskResult.objects.count() == queued  # no replay was queued
    assert Subscription.objects.count() == 1
