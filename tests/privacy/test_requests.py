"""Asking for erasure from the page (without JavaScript), the admin and the API; the
suppression record; the deadline warning; the system check; the webhook."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.choices import Source, SubscriptionState
from crm.erasure_checks import check_erasure_hash_key
from crm.erasure_models import person_is_erased
from crm.models import ErasureRequest, Person
from crm.services.erasure import erasure_request
from prefcenter.preferences.tokens import preference_path
from prefcenter.webhooks import services as webhook_services
from prefcenter.webhooks.choices import EventType
from prefcenter.webhooks.models import WebhookMessage
from tests.api.conftest import authorized, make_api_key
from tests.fixtures.builders import make_list, make_person

pytestmark = pytest.mark.django_db

MDN = "+12015550188"
PERSONS = "/admin/crm/person/"


@pytest.fixture
def ada(db):
    return make_person(first_name="Ada", last_name="Byron", email="ada.b@example.com", mdn=MDN)


def test_the_page_asks_first_then_erases_and_leaves(client, ada):
    page = preference_path(ada)
    step = client.get(f"{page}?erase=confirm")
    assert step.status_code == 200
    assert "Delete your data?" in step.content.decode()
    unconfirmed = client.post(page, {"action": "erase"})
    assert "Delete your data?" in unconfirmed.content.decode()
    assert not ErasureRequest.objects.exists()

    done = client.post(page, {"action": "erase", "confirm": "yes"})

    assert done.status_code == 303
    assert done["Location"] == reverse("preferences:erased")
    assert "Your data was deleted" in client.get(done["Location"]).content.decode()
    request = ErasureRequest.objects.get()
    assert (request.source, request.requested_by) == (Source.PREFERENCE_CENTER, "subscriber")
    assert client.get(page).status_code == 404  # the link no longer works


def _staff(username: str, *codenames: str):
    user = get_user_model().objects.create_user(username, password="pw-123456789", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_the_admin_action_needs_its_permission_and_asks_first(client, ada):
    client.force_login(_staff("clerk", "view_person", "change_person", "stop_texts"))
    selection = {"action": "erase_personal_data", "_selected_action": [ada.pk]}
    refused = client.post(PERSONS, {**selection, "post": "yes"}, follow=True)
    assert "No action selected." in refused.content.decode()
    assert not ErasureRequest.objects.exists()

    client.force_login(_staff("dpo", "view_person", "erase_person"))
    html = client.post(PERSONS, {**selection, "index": "0"}).content.decode()
    assert "Erase the personal data of 1 person?" in html
    assert "+1•••••0188" in html and MDN not in html
    assert not ErasureRequest.objects.exists()

    done = client.post(PERSONS, {**selection, "post": "yes"}, follow=True)
    assert "Erased the personal data of 1 person" in done.content.decode()
    request = ErasureRequest.objects.get()
    assert request.requested_by.startswith("staff:") and request.source == Source.STAFF


def test_the_api_creates_once_and_reads_the_state(ada):
    api = authorized(make_api_key(scopes=["privacy"]))
    url = reverse("api:erasure-requests")
    first = api.post(url, {"person_id": ada.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    # Vibes is still to be told: the number finds the person there.
    assert first.json()["state"] == "waiting_for_vibes"
    replay = api.post(url, {"person_id": ada.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 201 and replay.json() == first.json()
    again = api.post(url, {"person_id": ada.pk}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    read = api.get(first["Location"])
    assert read.status_code == 200 and read.json()["person_id"] == ada.pk

    assert api.post(url, {"person_id": 999999}, format="json").status_code == 404
    invalid = api.post(url, {"person_id": "x"}, format="json")
    assert invalid.status_code in {400, 422}
    assert "person_id" in invalid.content.decode()

    other = authorized(make_api_key(scopes=["persons:read"]))
    assert other.get(first["Location"]).status_code == 403


def test_an_erased_number_cannot_be_subscribed_again_by_a_list(ada):
    deals = make_list(name="Deals")
    erasure_request(person=ada, source=Source.STAFF)
    newcomer = make_person(first_name="Nu", mdn="(201) 555-0188")
    for source in (Source.IMPORT, Source.STAFF, Source.API):
        with pytest.raises(ValidationError, match="belonged to a person erased"):
            services.subscription_change(
                person=newcomer,
                subscription_list=deals,
                state=SubscriptionState.SUBSCRIBED,
                source=source,
            )
    # The owner's own new opt-in, reported by Vibes, subscribes them.
    change = services.subscription_change(
        person=newcomer,
        subscription_list=deals,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )
    assert change.subscription.state == SubscriptionState.SUBSCRIBED


def test_nothing_restores_an_erased_person(ada):
    erasure_request(person=ada, source=Source.STAFF)
    services.person_update(
        person=ada, source=Source.STAFF, first_name="Ada", email="ada.b@example.com"
    )
    person = Person.objects.get(pk=ada.pk)
    assert person_is_erased(person) and (person.first_name, person.email) == ("", "")
    with pytest.raises(ValidationError, match="reserved for erased persons"):
        make_person(external_person_id="erased-mine")


def test_the_dashboard_warns_before_the_deadline(admin_client, settings):
    settings.PREFCENTER_ERASURE_DEADLINE_DAYS = 30
    known = make_person(first_name="K", mdn="+12015550189", person_key="pk-189")
    request = erasure_request(person=known, source=Source.STAFF)
    assert request.vibes_finished_at is None
    dashboard = reverse("admin:vibes_sync_dashboard")
    assert "vibes-sync-erasures-near-deadline" not in admin_client.get(dashboard).content.decode()

    ErasureRequest.objects.filter(pk=request.pk).update(
        deadline_at=timezone.now() + datetime.timedelta(days=3)
    )
    html = admin_client.get(dashboard).content.decode()
    assert "vibes-sync-erasures-near-deadline" in html
    assert f'data-erasure-state="{request.pk}">waiting for Vibes<' in html

    ErasureRequest.objects.filter(pk=request.pk).update(
        deadline_at=timezone.now() - datetime.timedelta(days=1)
    )
    assert "vibes-sync-erasures-overdue" in admin_client.get(dashboard).content.decode()


def test_erasure_done_is_published(db):
    webhook_services.endpoint_create(
        url="https://crm.example.com/hooks", event_types=[EventType.ERASURE_DONE]
    )
    # Known by email only: Vibes never had them, so the request is done at once.
    ada = make_person(first_name="Ada", email="ada.b@example.com")
    request = erasure_request(person=ada, source=Source.STAFF)
    [message] = WebhookMessage.objects.filter(event_type=EventType.ERASURE_DONE)
    data = message.payload["data"]
    assert data["erasure_request_id"] == request.pk and data["person_id"] == ada.pk
    assert data["vibes_finished_at"] is not None
    assert "ada" not in str(message.payload).lower()


def test_production_requires_the_hash_key(settings):
    settings.PRODUCTION = True
    settings.PREFCENTER_ERASURE_HASH_KEY = ""
    assert [message.id for message in check_erasure_hash_key()] == ["prefcenter.E701"]
    with pytest.raises(SystemCheckError, match=r"prefcenter\.E701"):
        call_command("check", "--tag", "crm_erasure")
    settings.PREFCENTER_ERASURE_HASH_KEY = "k" * 40
    assert check_erasure_hash_key() == []
