"""The sweep prunes old events that have nothing left to send, and keeps the rest."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from prefcenter.webhooks import services
from prefcenter.webhooks.choices import DeliveryState
from prefcenter.webhooks.models import WebhookDelivery, WebhookMessage
from prefcenter.webhooks.sweep import webhooks_sweep
from tests.fixtures.builders import make_person

pytestmark = pytest.mark.django_db


def test_old_settled_events_are_pruned_and_old_pending_ones_kept(settings):
    settings.WEBHOOK_RETENTION_DAYS = 7
    services.endpoint_create(url="https://crm.example.com/hooks", event_types=["person.changed"])
    for _ in range(3):
        make_person()
    # The first event was delivered long ago, the second is old and still pending, the
    # third is recent (and failed).
    messages = list(WebhookMessage.objects.order_by("pk"))
    long_ago = timezone.now() - datetime.timedelta(days=8)
    WebhookMessage.objects.filter(pk__in=[messages[0].pk, messages[1].pk]).update(
        created_at=long_ago
    )
    WebhookDelivery.objects.filter(message=messages[0]).update(state=DeliveryState.SUCCEEDED)
    WebhookDelivery.objects.filter(message=messages[2]).update(state=DeliveryState.FAILED)

    report = webhooks_sweep()

    assert report.pruned_messages == 1
    assert list(WebhookMessage.objects.order_by("pk")) == messages[1:]
    assert report.next_due_at is not None
