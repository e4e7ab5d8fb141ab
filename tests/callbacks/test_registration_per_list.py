"""Callback registrations per list and per campaign, against the sandbox over real HTTP.

Vibes requires a list filter on subscription callbacks and a campaign filter on
acquisition callbacks, one registration per list or campaign, and delivers a list's
subscription events only through that list's registration. ``vibes_callbacks register``
makes them for what the CRM knows; a list added later is registered by a durable job.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from crm.choices import SubscriptionState
from crm.models import Subscription, SubscriptionList
from tests.fixtures.builders import make_list
from tests.fixtures.callbacks import process_callbacks
from tests.fixtures.sandbox import contract_variants
from tests.fixtures.tasks import run_pending_tasks
from vibes_integration.callbacks.models import (
    CallbackEvent,
    CallbackStatus,
    RegistrationJob,
    RegistrationJobStatus,
    RegistrationTarget,
)
from vibes_integration.callbacks.registration_jobs import registration_jobs_run_due

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("open_callbacks")]

UNFILTERED = {
    "person_added",
    "person_updated",
    "subscription_list_added",
    "subscription_list_updated",
}
LIST_TYPES = ("subscription_added", "subscription_removed")
CAMPAIGN_TYPES = ("ack_participant_added", "ack_participant_changed")


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("vibes_callbacks", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def site_url(live_server, settings) -> str:
    settings.VIBES_CALLBACK_BASE_URL = f"{live_server.url}/vibes/callbacks/"
    return settings.VIBES_CALLBACK_BASE_URL


@pytest.fixture
def crm_lists(vibes_sandbox, site_url) -> list[SubscriptionList]:
    """Two of the sandbox's lists, with their web opt-in campaigns, as staff set them up
    before callbacks were registered (their jobs ran and found nothing to do)."""
    lists = [
        make_list(list_id="1001", name="Deals", acquisition_campaign_id="AC1001"),
        make_list(list_id="1002", name="Orders", acquisition_campaign_id="AC1002"),
    ]
    assert registration_jobs_run_due() == 4
    assert set(RegistrationJob.objects.values_list("status", flat=True)) == {
        RegistrationJobStatus.SKIPPED
    }
    RegistrationJob.objects.all().delete()
    return lists


def _keys(registrations: list[dict]) -> set[tuple]:
    keys = set()
    for item in registrations:
        narrowed = item.get("filter") or {}
        keys.add((item["callback_type"], narrowed.get("list_id"), narrowed.get("campaign_id")))
    return keys


def _wanted(list_ids, campaign_ids) -> set[tuple]:
    return (
        {(t, list_id, None) for t in LIST_TYPES for list_id in list_ids}
        | {(t, None, campaign_id) for t in CAMPAIGN_TYPES for campaign_id in campaign_ids}
        | {(t, None, None) for t in UNFILTERED}
    )


def _job_tasks_run() -> int:
    """Run the queued tasks the way the worker does (the job's task among them)."""
    return run_pending_tasks()


def test_register_makes_one_registration_per_list_and_per_campaign(
    vibes_sandbox, site_url, crm_lists
):
    first = _command("register")
    registrations = vibes_sandbox.control.callbacks()

    second = _command("register")

    assert _keys(registrations) == _wanted(["1001", "1002"], ["AC1001", "AC1002"])
    assert len(registrations) == 12
    assert {r["destination"]["url"] for r in registrations} == {site_url}
    assert "Done: 12 new, 0 already there, 0 removed." in first
    assert "Done: 0 new, 12 already there, 0 removed." in second
    assert vibes_sandbox.control.callbacks() == registrations
    assert "registered  subscription_added (list 1002)" in first
    assert "registered  ack_participant_changed (campaign AC1001)" in first


def test_register_updates_every_registration_when_the_password_rotates(
    vibes_sandbox, site_url, crm_lists, settings
):
    settings.VIBES_CALLBACK_CREDENTIALS = [("vibes", "first-secret")]
    _command("register")
    settings.VIBES_CALLBACK_CREDENTIALS = [("vibes", "second-secret"), ("vibes", "first-secret")]

    output = _command("register")

    urls = {r["destination"]["url"] for r in vibes_sandbox.control.callbacks()}
    assert urls == {site_url.replace("http://", "http://vibes:second-secret@")}
    assert "second-secret" not in output
    assert "Done: 0 new, 12 already there, 0 removed." in output
    assert output.count("   updated  ") == 12


def test_register_removes_ours_for_lists_and_campaigns_that_are_gone_and_nothing_else(
    vibes_sandbox, site_url, crm_lists
):
    other = vibes_sandbox.client().register_callback(
        "subscription_added", url="https://other.example.com/hook", list_id="1003"
    )
    _command("register")
    crm_lists[1].delete()

    output = _command("register")

    assert "removed  subscription_added (list 1002)" in output
    assert "removed  ack_participant_added (campaign AC1002)" in output
    assert "Done: 0 new, 8 already there, 4 removed." in output
    registrations = vibes_sandbox.control.callbacks()
    ours = [r for r in registrations if r["destination"]["url"] == site_url]
    assert _keys(ours) == _wanted(["1001"], ["AC1001"])
    assert [r["callback_id"] for r in registrations if r not in ours] == [other["callback_id"]]


def test_another_systems_registration_for_a_list_is_taken_over_only_with_replace(
    vibes_sandbox, site_url, crm_lists
):
    vibes_sandbox.client().register_callback(
        "subscription_removed", url="https://other.example.com/hook", list_id="1001"
    )

    with pytest.raises(CommandError, match="1 registration"):
        _command("register")

    output = _command("register", "--replace")

    assert "updated  subscription_removed (list 1001)" in output
    registrations = vibes_sandbox.control.callbacks()
    assert {r["destination"]["url"] for r in registrations} == {site_url}
    assert _keys(registrations) == _wanted(["1001", "1002"], ["AC1001", "AC1002"])


def test_list_shows_the_lists_and_campaigns_without_a_registration_of_ours(
    vibes_sandbox, site_url, crm_lists
):
    _command("register")
    make_list(list_id="1003", name="Events", acquisition_campaign_id="AC1003")

    listed = _command("list")

    assert listed.count("(ours)") == 12
    assert "Lists without ours: 1003" in listed
    assert "Campaigns without ours: AC1003" in listed
    assert "missing  subscription_added (list 1003)" in listed
    assert "missing  ack_participant_added (campaign AC1003)" in listed

    _command("register")
    assert "Every list and campaign the CRM knows has its registrations." in _command("list")


def test_an_unfiltered_subscription_registration_of_ours_is_replaced_per_list(
    vibes_sandbox, site_url, crm_lists
):
    """What an older version of the product registered, should the account still hold it."""
    vibes_sandbox.client().register_callback("person_added", url=site_url)

    output = _command("register")

    assert "unchanged  person_added" in output
    assert _keys(vibes_sandbox.control.callbacks()) == _wanted(
        ["1001", "1002"], ["AC1001", "AC1002"]
    )


@pytest.mark.parametrize("sandbox_contract", contract_variants("callback_person"), indirect=True)
def test_a_list_vibes_announces_later_is_registered_and_its_keyword_reaches_the_crm(
    vibes_sandbox, sandbox_contract, site_url, crm_lists
):
    _command("register")
    vibes_sandbox.control.upsert_list(id="1003", name="Store events", keyword="EVENTS")
    vibes_sandbox.control.wait_for_deliveries()
    process_callbacks()
    announced = SubscriptionList.objects.get(list_id="1003")
    [job] = RegistrationJob.objects.filter(target=RegistrationTarget.LIST)
    assert (job.target_id, job.status) == ("1003", RegistrationJobStatus.PENDING)

    assert _job_tasks_run() >= 1

    job.refresh_from_db()
    assert job.status == RegistrationJobStatus.DONE, (job.result, job.error)
    assert "registered subscription_added (list 1003)" in job.result
    ours = [r for r in vibes_sandbox.control.callbacks() if r["destination"]["url"] == site_url]
    assert ("subscription_removed", "1003", None) in _keys(ours)

    vibes_sandbox.control.phone_reply("+12015550177", "EVENTS")
    vibes_sandbox.control.wait_for_deliveries()
    process_callbacks()

    added = CallbackEvent.objects.get(callback_type="subscription_added")
    assert added.status == CallbackStatus.PROCESSED, (added.error, added.notes)
    # Whether the person events of a keyword join make one CRM person or two is the
    # identity rules' business; here the list's subscription must have arrived.
    subscription = Subscription.objects.get(person=added.person, subscription_list=announced)
    assert subscription.state == SubscriptionState.SUBSCRIBED


def test_a_list_staff_add_is_registered_and_a_deleted_one_unregistered(
    vibes_sandbox, site_url, crm_lists
):
    _command("register")
    events = make_list(list_id="1003", name="Events", acquisition_campaign_id="AC1003")
    assert set(RegistrationJob.objects.values_list("target", "target_id")) == {
        ("list", "1003"),
        ("campaign", "AC1003"),
    }

    assert registration_jobs_run_due() == 2

    ours = _keys(vibes_sandbox.control.callbacks())
    assert _wanted(["1001", "1002", "1003"], ["AC1001", "AC1002", "AC1003"]) == ours

    events.delete()
    assert registration_jobs_run_due() == 2

    assert _keys(vibes_sandbox.control.callbacks()) == _wanted(
        ["1001", "1002"], ["AC1001", "AC1002"]
    )
    assert set(RegistrationJob.objects.values_list("status", flat=True)) == {
        RegistrationJobStatus.DONE
    }


def test_a_new_list_registers_nothing_where_callbacks_were_never_set_up(vibes_sandbox, site_url):
    make_list(list_id="1001", name="Deals", acquisition_campaign_id="")

    registration_jobs_run_due()

    job = RegistrationJob.objects.get(target=RegistrationTarget.LIST)
    assert job.status == RegistrationJobStatus.SKIPPED
    assert "vibes_callbacks register" in job.result
    assert vibes_sandbox.control.callbacks() == []


def test_a_registration_vibes_cannot_take_now_is_retried_later(vibes_sandbox, site_url, crm_lists):
    _command("register")
    make_list(list_id="1003", name="Events", acquisition_campaign_id="")
    vibes_sandbox.control.set_faults(fail_next=[503])

    registration_jobs_run_due()

    job = RegistrationJob.objects.get(target=RegistrationTarget.LIST)
    assert job.status == RegistrationJobStatus.PENDING
    assert job.attempts == 1
    assert "503" in job.error
    assert job.next_attempt_at > job.updated_at
    RegistrationJob.objects.filter(pk=job.pk).update(next_attempt_at=job.updated_at)

    registration_jobs_run_due()

    job.refresh_from_db()
    assert (job.status, job.attempts) == (RegistrationJobStatus.DONE, 2)
    assert ("subscription_added", "1003", None) in _keys(vibes_sandbox.control.callbacks())


def test_a_registration_vibes_refuses_fails_and_stays_visible(vibes_sandbox, site_url, crm_lists):
    _command("register")
    vibes_sandbox.client().register_callback(
        "subscription_added", url="https://other.example.com/hook", list_id="1003"
    )
    make_list(list_id="1003", name="Events", acquisition_campaign_id="")

    registration_jobs_run_due()

    job = RegistrationJob.objects.get(target=RegistrationTarget.LIST)
    assert job.status == RegistrationJobStatus.FAILED
    assert "conflict subscription_added (list 1003)" in job.error
    assert "registered subscription_removed (list 1003)" in job.result


def test_staff_run_a_failed_job_again_once_the_cause_is_gone(
    vibes_sandbox, site_url, crm_lists, admin_client
):
    _command("register")
    other = vibes_sandbox.client().register_callback(
        "subscription_added", url="https://other.example.com/hook", list_id="1003"
    )
    make_list(list_id="1003", name="Events", acquisition_campaign_id="")
    registration_jobs_run_due()
    failed = RegistrationJob.objects.get(status=RegistrationJobStatus.FAILED)
    vibes_sandbox.client().delete_callback(other["callback_id"])

    response = admin_client.post(
        "/admin/vibes_callbacks/registrationjob/",
        {"action": "run_again", "_selected_action": [failed.pk]},
        follow=True,
    )

    assert "1 registration job queued." in response.content.decode()
    assert registration_jobs_run_due() == 1
    newest = RegistrationJob.objects.order_by("-id").first()
    assert newest.status == RegistrationJobStatus.DONE, (newest.result, newest.error)
    assert ("subscription_added", "1003", None) in _keys(vibes_sandbox.control.callbacks())
