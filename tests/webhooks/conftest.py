"""Fixtures of the webhook tests: an endpoint registered at a real HTTP receiver (the
``callback_receiver`` of ``tests.fixtures.sandbox``), fast retries, and a loop that runs the
task worker until what a test waits for has happened."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from prefcenter.webhooks import services
from prefcenter.webhooks.choices import EventType
from tests.fixtures.sandbox import CallbackReceiver
from tests.fixtures.tasks import run_pending_tasks


@pytest.fixture(autouse=True)
def fast_webhook_settings(settings):
    """Retries within a fraction of a second, no jitter, short timeouts."""
    settings.WEBHOOK_RETRY_SCHEDULE = "0.2,0.2"
    settings.WEBHOOK_RETRY_JITTER = 0
    settings.WEBHOOK_CONNECT_TIMEOUT = 2
    settings.WEBHOOK_READ_TIMEOUT = 2
    settings.WEBHOOK_TASK_SECONDS = 2
    settings.ADMINS = [("Ops", "ops@example.com")]
    return settings


def register(receiver: CallbackReceiver, *event_types: str) -> services.EndpointWithSecret:
    return services.endpoint_create(
        url=receiver.url,
        event_types=event_types or EventType.values,
        description="Brand CRM",
    )


def deliver_until(condition: Callable[[], bool], *, timeout: float = 20) -> None:
    """Run the task worker (in this process) until ``condition()`` holds.

    Retries are scheduled a fraction of a second ahead, so the loop waits a little between
    rounds; ``timeout`` only bounds a test that would otherwise hang.
    """
    deadline = time.monotonic() + timeout
    while True:
        run_pending_tasks()
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true while the worker ran")
        time.sleep(0.05)


def webhook_requests(receiver: CallbackReceiver) -> list[dict]:
    with receiver._lock:
        return list(receiver.requests)
