"""The endpoint services the admin uses and the JSON API will: validation, rotation,
pausing and resuming."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from prefcenter.webhooks import services
from prefcenter.webhooks.choices import DeliveryState, EventType
from prefcenter.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.fixtures.builders import make_person

pytestmark = pytest.mark.django_db

URL = "https://crm.example.com/hooks"


@pytest.mark.parametrize(
    ("url", "event_types", "field"),
    [
        ("crm.example.com/hooks", ["person.changed"], "url"),
        ("ftp://crm.example.com/hooks", ["person.changed"], "url"),
        (URL, [], "event_types"),
        (URL, ["person.deleted"], "event_types"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(url, event_types, field):
    with pytest.raises(ValidationError) as error:
        services.endpoint_create(url=url, event_types=event_types)

    assert field in error.value.message_dict
    assert not WebhookEndpoint.objects.exists()


def test_production_accepts_only_https(settings):
    settings.PRODUCTION = True

    with pytest.raises(ValidationError, match="https://"):
        services.endpoint_create(url="http://crm.example.com/hooks", event_types=["person.changed"])
    assert services.endpoint_create(url=URL, event_types=["person.changed"]).endpoint.pk


def test_update_changes_only_what_is_given():
    endpoint = services.endpoint_create(
        url=URL, event_types=["person.changed"], description="CRM"
    ).endpoint

    services.endpoint_update(
        endpoint=endpoint, event_types=[EventType.OPT_IN_REJECTED, "person.changed"]
    )

    endpoint.refresh_from_db()
    assert endpoint.url == URL and endpoint.description == "CRM"
    assert endpoint.event_types == ["person.changed", "opt_in.rejected"]


def test_a_second_rotation_drops_the_oldest_secret(settings):
    settings.WEBHOOK_SECRET_GRACE_HOURS = 2
    first = services.endpoint_create(url=URL, event_types=["person.changed"])
    second = services.endpoint_rotate_secret(endpoint=first.endpoint)
    third = services.endpoint_rotate_secret(endpoint=second.endpoint)

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.signing_secrets() == [third.secret, second.secret]
    assert endpoint.previous_secret_expires_at > timezone.now() + datetime.timedelta(hours=1)
    later = timezone.now() + datetime.timedelta(hours=3)
    assert endpoint.signing_secrets(now=later) == [third.secret]


def test_a_paused_endpoint_still_gets_its_events_written_and_resume_makes_them_due():
    endpoint = services.endpoint_create(url=URL, event_types=["person.changed"]).endpoint
    assert services.endpoint_pause(endpoint=endpoint, reason="Receiver maintenance")
    assert not services.endpoint_pause(endpoint=endpoint, reason="again")
    assert endpoint.paused_reason == "Receiver maintenance"

    make_person()
    held = WebhookDelivery.objects.get()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() + datetime.timedelta(days=1))

    assert services.endpoint_resume(endpoint=endpoint) == 1
    held.refresh_from_db()
    assert held.state == DeliveryState.PENDING
    assert held.next_attempt_at <= timezone.now()
    assert not endpoint.is_paused
