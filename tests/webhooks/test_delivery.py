"""Deliveries over real HTTP to a receiver running in the test: signed, retried with
backoff, logged attempt by attempt, paused when an endpoint keeps failing, replayed."""

from __future__ import annotations

import datetime
import json
import logging

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from prefcenter.webhooks import services, signing
from prefcenter.webhooks.choices import AttemptOutcome, DeliveryState
from prefcenter.webhooks.delivery import claim_due
from prefcenter.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from tests.fixtures.builders import make_person
from tests.fixtures.tasks import run_pending_tasks
from tests.webhooks.conftest import deliver_until, register, webhook_requests
from vibes_integration.sync.sweep import sweep

pytestmark = pytest.mark.django_db(transaction=True)


def _settled(state: str = DeliveryState.SUCCEEDED, count: int = 1):
    return lambda: WebhookDelivery.objects.filter(state=state).count() >= count


def _attempts(delivery: WebhookDelivery) -> list[tuple]:
    return [(a.number, a.status_code, a.outcome) for a in delivery.attempt_log.order_by("number")]


def _signature_ok(request: dict, secret: str) -> bool:
    headers = request["headers"]
    expected = signing.signature(
        secret=secret,
        message_id=headers["webhook-id"],
        timestamp=int(headers["webhook-timestamp"]),
        body=request["raw"],
    )
    return expected in headers["webhook-signature"].split(" ")


def test_a_registered_endpoint_receives_a_correctly_signed_delivery(callback_receiver):
    created = register(callback_receiver)
    person = make_person(external_person_id="crm-7")

    deliver_until(_settled())

    [request] = webhook_requests(callback_receiver)
    message = WebhookMessage.objects.get()
    assert request["method"] == "POST"
    assert request["headers"]["webhook-id"] == message.message_id
    assert request["headers"]["webhook-timestamp"].isdigit()
    assert request["headers"]["Content-Type"] == "application/json"
    assert _signature_ok(request, created.secret)
    assert not _signature_ok(request, signing.secret_generate())
    assert json.loads(request["raw"]) == message.payload
    assert request["body"]["data"]["person"]["external_person_id"] == "crm-7"
    assert request["body"]["data"]["person"]["id"] == person.pk
    delivery = WebhookDelivery.objects.get()
    assert _attempts(delivery) == [(1, 200, AttemptOutcome.SUCCEEDED)]
    assert delivery.finished_at is not None and delivery.next_attempt_at is None
    created.endpoint.refresh_from_db()
    assert created.endpoint.last_success_at is not None


def test_a_500_is_retried_after_the_backoff_and_then_succeeds(callback_receiver):
    created = register(callback_receiver)
    callback_receiver.statuses = [500]
    make_person()

    deliver_until(_settled())

    delivery = WebhookDelivery.objects.get()
    assert _attempts(delivery) == [
        (1, 500, AttemptOutcome.RETRY),
        (2, 200, AttemptOutcome.SUCCEEDED),
    ]
    first, second = delivery.attempt_log.order_by("number")
    assert first.next_retry_at - first.made_at >= datetime.timedelta(seconds=0.2)
    assert second.made_at >= first.next_retry_at
    requests = webhook_requests(callback_receiver)
    assert len(requests) == 2
    assert {r["headers"]["webhook-id"] for r in requests} == {delivery.message.message_id}
    assert all(_signature_ok(r, created.secret) for r in requests)


def test_a_redirect_and_a_timeout_are_failed_attempts_and_retried(callback_receiver, settings):
    settings.WEBHOOK_READ_TIMEOUT = 0.3
    register(callback_receiver)
    callback_receiver.hang_seconds = 1.0
    callback_receiver.statuses = [302, "hang"]
    make_person()

    deliver_until(_settled())

    delivery = WebhookDelivery.objects.get()
    assert _attempts(delivery) == [
        (1, 302, AttemptOutcome.RETRY),
        (2, None, AttemptOutcome.RETRY),
        (3, 200, AttemptOutcome.SUCCEEDED),
    ]
    timed_out = delivery.attempt_log.get(number=2)
    assert "ReadTimeout" in timed_out.error


def test_an_endpoint_that_keeps_failing_is_paused_its_events_held_and_staff_told(
    callback_receiver, settings, caplog
):
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 2
    created = register(callback_receiver)
    callback_receiver.default_status = 503
    make_person()
    make_person()

    with caplog.at_level(logging.ERROR, logger="prefcenter.webhooks.delivery"):
        deliver_until(_settled(DeliveryState.FAILED, count=2))

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.is_paused
    assert "2 deliveries in a row failed" in endpoint.paused_reason
    for delivery in WebhookDelivery.objects.all():
        assert [a[2] for a in _attempts(delivery)] == [
            AttemptOutcome.RETRY,
            AttemptOutcome.RETRY,
            AttemptOutcome.FAILED,
        ]
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert callback_receiver.url in mail.outbox[0].body
    assert any("paused" in r.getMessage() for r in caplog.records)

    sent_before = len(webhook_requests(callback_receiver))
    make_person()
    run_pending_tasks()
    held = WebhookDelivery.objects.get(state=DeliveryState.PENDING)
    assert held.attempts == 0
    assert len(webhook_requests(callback_receiver)) == sent_before

    callback_receiver.default_status = 200
    assert services.endpoint_resume(endpoint=created.endpoint) == 1
    deliver_until(_settled())
    held.refresh_from_db()
    assert held.state == DeliveryState.SUCCEEDED
    endpoint.refresh_from_db()
    assert not endpoint.is_paused and endpoint.consecutive_failures == 0


def test_an_endpoint_failing_for_longer_than_the_limit_is_paused(callback_receiver, settings):
    settings.WEBHOOK_PAUSE_AFTER_HOURS = 1
    created = register(callback_receiver)
    two_hours_ago = timezone.now() - datetime.timedelta(hours=2)
    WebhookEndpoint.objects.filter(pk=created.endpoint.pk).update(failing_since=two_hours_ago)
    callback_receiver.statuses = [500]
    make_person()

    deliver_until(lambda: WebhookEndpoint.objects.filter(paused_at__isnull=False).exists())

    endpoint = WebhookEndpoint.objects.get()
    assert "No delivery succeeded since" in endpoint.paused_reason
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1
    assert len(mail.outbox) == 1


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(callback_receiver):
    created = register(callback_receiver)
    rotated = services.endpoint_rotate_secret(endpoint=created.endpoint)
    make_person()
    deliver_until(_settled())

    [request] = webhook_requests(callback_receiver)
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    assert _signature_ok(request, rotated.secret)
    assert _signature_ok(request, created.secret)

    WebhookEndpoint.objects.filter(pk=created.endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    make_person()
    deliver_until(_settled(count=2))

    later = webhook_requests(callback_receiver)[-1]
    assert len(later["headers"]["webhook-signature"].split(" ")) == 1
    assert _signature_ok(later, rotated.secret)
    assert not _signature_ok(later, created.secret)


def test_a_replay_sends_the_event_again_with_the_same_id(callback_receiver):
    register(callback_receiver)
    make_person()
    deliver_until(_settled())
    message = WebhookMessage.objects.get()

    [replay] = services.message_replay(message=message)
    deliver_until(_settled(count=2))

    first, second = webhook_requests(callback_receiver)
    assert first["raw"] == second["raw"]
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == message.message_id
    replay.refresh_from_db()
    assert replay.replay and replay.state == DeliveryState.SUCCEEDED


def test_the_sweep_sends_what_a_lost_task_would_have_sent(callback_receiver):
    register(callback_receiver)
    make_person()
    DBTaskResult.objects.all().delete()
    run_pending_tasks()
    assert webhook_requests(callback_receiver) == []

    sweep()
    deliver_until(_settled())

    assert len(webhook_requests(callback_receiver)) == 1


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_ends(callback_receiver, settings):
    register(callback_receiver)
    make_person()

    assert len(claim_due(limit=10)) == 1
    assert claim_due(limit=10) == []
    WebhookDelivery.objects.update(leased_until=timezone.now() - datetime.timedelta(seconds=1))
    assert len(claim_due(limit=10)) == 1
