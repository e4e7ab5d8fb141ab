"""The admin: registering an endpoint shows its secret once, rotation, pause and resume,
the paused banner, the read-only log with every attempt, and replay behind its permission."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from prefcenter.webhooks import services
from prefcenter.webhooks.choices import DeliveryState, EventType
from prefcenter.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from tests.fixtures.builders import make_person
from tests.webhooks.conftest import deliver_until, register

ENDPOINTS = reverse("admin:webhooks_webhookendpoint_changelist")
MESSAGES = reverse("admin:webhooks_webhookmessage_changelist")


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-12345!x")
    client.force_login(user)
    return client


def _secret_on(page: str) -> str:
    match = re.search(r'<code class="webhook-secret">(whsec_[A-Za-z0-9+/=]+)</code>', page)
    assert match, "the page shows no secret"
    return match.group(1)


@pytest.mark.django_db
def test_creating_an_endpoint_shows_its_secret_once(staff_client):
    response = staff_client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "url": "https://crm.example.com/hooks",
            "description": "Main CRM",
            "event_types": [EventType.SUBSCRIPTION_OPTED_OUT, EventType.OPT_IN_CONFIRMED],
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert _secret_on(response.content.decode()) == endpoint.secret
    assert endpoint.event_types == ["subscription.opted_out", "opt_in.confirmed"]
    change = staff_client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    listing = staff_client.get(ENDPOINTS)
    for page in (change, listing):
        assert page.status_code == 200
        assert endpoint.secret not in page.content.decode()
    assert endpoint.secret[:10] in change.content.decode()


@pytest.mark.django_db
def test_a_bad_url_or_no_event_type_is_refused_with_a_message(staff_client):
    response = staff_client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": "ftp://crm.example.com/hooks", "description": "", "event_types": []},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "http://" in errors["url"][0]
    assert "event_types" in errors
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_rotating_shows_the_new_secret_and_keeps_the_old_one_signing(staff_client):
    created = services.endpoint_create(
        url="https://crm.example.com/hooks", event_types=["person.changed"]
    )

    response = staff_client.post(
        ENDPOINTS, {"action": "rotate_secret", "_selected_action": [created.endpoint.pk]}
    )

    endpoint = WebhookEndpoint.objects.get()
    assert _secret_on(response.content.decode()) == endpoint.secret != created.secret
    assert endpoint.signing_secrets() == [endpoint.secret, created.secret]


@pytest.mark.django_db
def test_pausing_by_hand_shows_the_banner_and_resuming_clears_it(staff_client):
    created = services.endpoint_create(
        url="https://crm.example.com/hooks", event_types=["person.changed"]
    )

    staff_client.post(
        ENDPOINTS, {"action": "pause_endpoints", "_selected_action": [created.endpoint.pk]}
    )
    page = staff_client.get(ENDPOINTS).content.decode()

    assert "webhook-paused-banner" in page
    assert "Paused by staff." in page
    staff_client.post(
        ENDPOINTS, {"action": "resume_endpoints", "_selected_action": [created.endpoint.pk]}
    )
    assert "webhook-paused-banner" not in staff_client.get(ENDPOINTS).content.decode()
    assert not WebhookEndpoint.objects.get().is_paused


@pytest.mark.django_db(transaction=True)
def test_the_log_shows_every_attempt_and_replay_needs_its_permission(
    client, django_user_model, callback_receiver
):
    register(callback_receiver)
    callback_receiver.statuses = [500]
    make_person()
    deliver_until(lambda: WebhookDelivery.objects.filter(state=DeliveryState.SUCCEEDED).exists())
    message = WebhookMessage.objects.get()
    delivery = WebhookDelivery.objects.get()
    viewer = django_user_model.objects.create_user("viewer", password="pw-12345!x", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_webhookmessage", "view_webhookdelivery", "view_webhookendpoint"]
        )
    )
    client.force_login(viewer)

    detail = client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))
    listing = client.get(MESSAGES).content.decode()
    refused = client.post(MESSAGES, {"action": "replay", "_selected_action": [message.pk]})

    assert detail.status_code == 200
    attempts = detail.context["inline_admin_formsets"][0].formset.queryset
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, 200)]
    assert 'value="replay"' not in listing
    assert refused.status_code == 200  # the changelist again, with "no action selected"
    assert WebhookDelivery.objects.count() == 1

    viewer.user_permissions.add(Permission.objects.get(codename="replay_webhookmessage"))
    client.post(MESSAGES, {"action": "replay", "_selected_action": [message.pk]})
    deliver_until(
        lambda: WebhookDelivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 2
    )

    assert WebhookDelivery.objects.filter(replay=True).count() == 1
    assert len(callback_receiver.requests) == 3
