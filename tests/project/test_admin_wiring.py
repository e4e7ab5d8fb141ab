"""The Person changelist offers the actions other apps add to it, and they work."""

import re

import pytest
from django.urls import reverse

from tests.fixtures.builders import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-12345!x")
    client.force_login(user)
    return client


def test_person_changelist_offers_every_apps_actions(staff_client):
    make_person(first_name="Grace")
    page = staff_client.get(reverse("admin:crm_person_changelist")).content.decode()
    offered = set(re.findall(r'<option value="([a-z_]+)"', page))
    assert {
        "copy_preference_links",
        "email_preference_links",
        "resync_persons",
        "stop_all_texts",
        "revoke_preference_links",
    } <= offered


def test_copy_preference_links_action_shows_a_working_link(staff_client, client):
    person = make_person(first_name="Grace")
    response = staff_client.post(
        reverse("admin:crm_person_changelist"),
        {"action": "copy_preference_links", "_selected_action": [person.pk]},
        follow=True,
    )
    text = response.content.decode()
    match = re.search(r"https?://[^\s\"<]+/preferences/[^\s\"<]+/", text)
    assert match, "the action shows no preference link"
    path = "/preferences/" + match.group(0).split("/preferences/", 1)[1]
    client.logout()
    assert client.get(path).status_code == 200
