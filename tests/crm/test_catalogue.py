"""The list catalogue from Vibes: ``vibes_catalog``, the admin's button and the id checks,
over real HTTP against the sandbox seeded with configs/demo.json."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm.models import SubscriptionList
from tests.crm.admin_posts import change_form_data
from tests.fixtures.builders import make_list
from vibes_integration.sandbox.config import DEMO_CONFIG_PATH, load_config

pytestmark = pytest.mark.django_db

CONFIG = load_config(DEMO_CONFIG_PATH)


def catalog(*args: str) -> str:
    out = io.StringIO()
    call_command("vibes_catalog", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_sync_creates_the_lists_and_campaigns_of_the_config(vibes_sandbox):
    output = catalog("sync")

    expected = {
        (
            entry["id"],
            entry["name"],
            entry["acquisition_campaigns"][0]["id"],
            entry["acquisition_campaigns"][0]["keyword"],
        )
        for entry in CONFIG["subscription_lists"]
    }
    assert (
        set(
            SubscriptionList.objects.values_list(
                "list_id", "name", "acquisition_campaign_id", "keyword"
            )
        )
        == expected
    )
    # New lists wait for staff's disclosure before subscribers see them.
    assert not SubscriptionList.objects.filter(shown_in_preference_center=True).exists()
    assert "3 lists created" in output
    assert "0 lists created, 0 updated, 3 unchanged" in catalog("sync")


def test_list_prints_vibes_lists_and_campaigns(vibes_sandbox):
    output = catalog("list")
    assert "1001\tDeals & offers\tAC1001 (DEALS)" in output
    assert not SubscriptionList.objects.exists()


def test_dry_run_changes_nothing(vibes_sandbox):
    output = catalog("sync", "--dry-run")
    assert "3 lists created" in output and "Dry run" in output
    assert not SubscriptionList.objects.exists()


def test_staff_settings_stay_and_a_campaign_of_another_list_is_flagged(vibes_sandbox):
    ours = make_list(
        list_id="1001",
        name="Old name",
        description="Our words",
        disclosure="Our legal text",
        acquisition_campaign_id="AC1002",
        keyword="",
        order=7,
        shown_in_preference_center=True,
    )
    make_list(list_id="4040", name="Gone")

    output = catalog("sync")

    ours.refresh_from_db()
    assert (ours.description, ours.disclosure, ours.order, ours.shown_in_preference_center) == (
        "Our words",
        "Our legal text",
        7,
        True,
    )
    assert ours.name == "Deals & offers" and ours.keyword == "DEALS"
    # The wrong campaign is kept for staff to settle, and said so.
    assert ours.acquisition_campaign_id == "AC1002"
    assert "campaign AC1002 opts in to list 1002, not this one" in output
    assert "Gone (4040): Vibes has no such list" in output
    assert SubscriptionList.objects.filter(list_id="4040").exists()


def test_vibes_unreachable_is_a_clear_error_and_changes_nothing(vibes_sandbox, settings):
    settings.VIBES_API_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError, match="Vibes could not be read"):
        catalog("sync")
    assert not SubscriptionList.objects.exists()


def test_the_admin_button_reads_the_catalogue(vibes_sandbox, admin_client):
    page = admin_client.get(reverse("admin:crm_subscriptionlist_changelist"))
    assert b"Read lists and campaigns from Vibes" in page.content

    response = admin_client.post(reverse("admin:crm_subscriptionlist_catalogue"), follow=True)

    assert SubscriptionList.objects.count() == 3
    assert b"3 lists created" in response.content


def test_the_button_needs_add_and_change_permissions(vibes_sandbox, client, django_user_model):
    user = django_user_model.objects.create_user(username="viewer", password=None, is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_subscriptionlist"),
        Permission.objects.get(codename="change_subscriptionlist"),
    )
    client.force_login(user)
    page = client.get(reverse("admin:crm_subscriptionlist_changelist"))
    assert page.status_code == 200
    assert b"Read lists and campaigns from Vibes" not in page.content

    response = client.post(reverse("admin:crm_subscriptionlist_catalogue"))

    assert response.status_code == 403
    assert not SubscriptionList.objects.exists()


def _add(admin_client, **values):
    data = change_form_data(admin_client.get(reverse("admin:crm_subscriptionlist_add")))
    data.update(values)
    return admin_client.post(reverse("admin:crm_subscriptionlist_add"), data)


@pytest.mark.parametrize(
    ("list_id", "campaign", "message"),
    [
        ("9999", "", "Vibes has no subscription list 9999."),
        ("1001", "AC1003", "Campaign AC1003 is not an active acquisition campaign of list 1001"),
    ],
)
def test_typed_ids_are_checked_against_vibes(
    vibes_sandbox, admin_client, list_id, campaign, message
):
    response = _add(admin_client, list_id=list_id, name="Typed", acquisition_campaign_id=campaign)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SubscriptionList.objects.exists()


def test_typed_ids_that_vibes_agrees_with_are_saved(vibes_sandbox, admin_client):
    response = _add(admin_client, list_id="1002", name="Orders", acquisition_campaign_id="AC1002")
    assert response.status_code == 302
    assert SubscriptionList.objects.get(list_id="1002").acquisition_campaign_id == "AC1002"


def test_typed_ids_are_saved_with_a_warning_when_vibes_cannot_be_asked(
    vibes_sandbox, admin_client, settings
):
    settings.VIBES_API_URL = "http://127.0.0.1:9"
    response = _add(admin_client, list_id="1002", name="Orders", acquisition_campaign_id="AC1002")
    assert response.status_code == 302
    assert SubscriptionList.objects.filter(list_id="1002").exists()
    shown = admin_client.get(response.url).content.decode()
    assert "could not be checked against Vibes" in shown
