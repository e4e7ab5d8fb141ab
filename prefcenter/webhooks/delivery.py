"""Sending deliveries: claim what is due, POST it signed, record the attempt, retry or
settle, and pause an endpoint that keeps failing.

Only the HTTP requests run in threads (``WEBHOOK_CONCURRENCY`` at once); claims and
records run in the task's own thread, each in a short transaction. A claim is a lease
(``WEBHOOK_LEASE_SECONDS``): a worker that dies mid-batch leaves deliveries that become
due again when the lease ends.
"""

from __future__ import annotations

import datetime
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from django.core.mail import mail_admins
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from prefcenter.conf import setting
from prefcenter.webhooks import payloads, signing
from prefcenter.webhooks.choices import AttemptOutcome, DeliveryState
from prefcenter.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

RESPONSE_EXCERPT_BYTES = 1000
USER_AGENT = "prefcenter-webhooks/1"


@dataclass(frozen=True)
class Claimed:
    """What one attempt needs, read when it was claimed (nothing is read in a thread)."""

    delivery_id: int
    endpoint_id: int
    url: str
    message_id: str
    body: bytes
    secrets: list[str]


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    response_excerpt: str
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class DeliverySummary:
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    next_due_at: datetime.datetime | None = field(default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "next_due_at": self.next_due_at.isoformat() if self.next_due_at else None,
        }


def _due(now: datetime.datetime):
    return WebhookDelivery.objects.filter(
        state=DeliveryState.PENDING,
        next_attempt_at__lte=now,
        endpoint__paused_at__isnull=True,
    ).filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))


def claim_due(*, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries of endpoints that are not paused."""
    now = timezone.now()
    lease = datetime.timedelta(seconds=setting("WEBHOOK_LEASE_SECONDS"))
    with transaction.atomic():
        ids = list(
            _due(now)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        WebhookDelivery.objects.filter(pk__in=ids).update(leased_until=now + lease)
        deliveries = WebhookDelivery.objects.filter(pk__in=ids).select_related(
            "endpoint", "message"
        )
        return [
            Claimed(
                delivery_id=d.pk,
                endpoint_id=d.endpoint_id,
                url=d.endpoint.url,
                message_id=d.message.message_id,
                body=payloads.body_bytes(d.message.payload),
                secrets=d.endpoint.signing_secrets(now=now),
            )
            for d in deliveries
        ]


def send(claimed: Claimed) -> AttemptResult:
    """One signed POST with a connect and a read timeout; redirects are not followed."""
    timestamp = int(time.time())
    headers = signing.signed_headers(
        signing_secrets=claimed.secrets,
        message_id=claimed.message_id,
        timestamp=timestamp,
        body=claimed.body,
    )
    headers["User-Agent"] = USER_AGENT
    timeout = (
        setting("WEBHOOK_CONNECT_TIMEOUT"),
        setting("WEBHOOK_READ_TIMEOUT"),
    )
    started = time.monotonic()
    try:
        with requests.post(
            claimed.url,
            data=claimed.body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            excerpt = response.raw.read(RESPONSE_EXCERPT_BYTES, decode_content=True) or b""
            status, error = response.status_code, ""
    except requests.RequestException as exc:
        status, excerpt, error = None, b"", f"{type(exc).__name__}: {exc}"[:2000]
    duration_ms = int((time.monotonic() - started) * 1000)
    return AttemptResult(
        status_code=status,
        response_excerpt=excerpt.decode("utf-8", "replace"),
        error=error,
        duration_ms=duration_ms,
    )


def retry_delay(attempts_made: int) -> float | None:
    """Seconds before the next try after ``attempts_made`` failed ones (None: no more).

    The schedule's step for this retry, spread by ``WEBHOOK_RETRY_JITTER`` either way.
    """
    schedule = setting("WEBHOOK_RETRY_SCHEDULE")
    if attempts_made > len(schedule):
        return None
    jitter = setting("WEBHOOK_RETRY_JITTER")
    return schedule[attempts_made - 1] * random.uniform(1 - jitter, 1 + jitter)


@transaction.atomic
def record(claimed: Claimed, result: AttemptResult) -> WebhookAttempt:
    """Log the attempt and move the delivery on: settled, retried later, or failed."""
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_for_update().get(pk=claimed.delivery_id)
    delivery.attempts += 1
    attempt = WebhookAttempt(
        delivery=delivery,
        number=delivery.attempts,
        made_at=now,
        status_code=result.status_code,
        response_excerpt=result.response_excerpt,
        error=result.error,
        duration_ms=result.duration_ms,
    )
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    delivery.leased_until = None
    already_settled = delivery.state != DeliveryState.PENDING
    if result.succeeded:
        attempt.outcome = AttemptOutcome.SUCCEEDED
        if not already_settled:
            delivery.state = DeliveryState.SUCCEEDED
            delivery.finished_at = now
            delivery.next_attempt_at = None
        WebhookEndpoint.objects.filter(pk=claimed.endpoint_id).update(
            consecutive_failures=0, failing_since=None, last_success_at=now
        )
    else:
        delay = retry_delay(delivery.attempts)
        if delay is not None:
            attempt.outcome = AttemptOutcome.RETRY
            attempt.next_retry_at = now + datetime.timedelta(seconds=delay)
            if not already_settled:
                delivery.next_attempt_at = attempt.next_retry_at
        else:
            attempt.outcome = AttemptOutcome.FAILED
            if not already_settled:
                delivery.state = DeliveryState.FAILED
                delivery.finished_at = now
                delivery.next_attempt_at = None
                WebhookEndpoint.objects.filter(pk=claimed.endpoint_id).update(
                    consecutive_failures=F("consecutive_failures") + 1
                )
        WebhookEndpoint.objects.filter(pk=claimed.endpoint_id, failing_since__isnull=True).update(
            failing_since=now
        )
        _pause_if_failing(claimed.endpoint_id, now)
    delivery.save()
    attempt.save()
    return attempt


def _pause_if_failing(endpoint_id: int, now: datetime.datetime) -> None:
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    if endpoint.is_paused:
        return
    limit = setting("WEBHOOK_PAUSE_AFTER_FAILURES")
    hours = setting("WEBHOOK_PAUSE_AFTER_HOURS")
    if endpoint.consecutive_failures >= limit:
        reason = (
            f"{endpoint.consecutive_failures} deliveries in a row failed after every retry "
            f"(WEBHOOK_PAUSE_AFTER_FAILURES={limit})."
        )
    elif endpoint.failing_since and now - endpoint.failing_since >= datetime.timedelta(hours=hours):
        reason = (
            f"No delivery succeeded since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC "
            f"(WEBHOOK_PAUSE_AFTER_HOURS={hours:g})."
        )
    else:
        return
    paused = WebhookEndpoint.objects.filter(pk=endpoint_id, paused_at__isnull=True).update(
        paused_at=now, paused_reason=reason
    )
    if paused:
        transaction.on_commit(lambda: _tell_staff(endpoint, reason))


def _tell_staff(endpoint: WebhookEndpoint, reason: str) -> None:
    """An error in the log and a mail to ADMINS; the admin shows paused endpoints too."""
    logger.error("Webhook endpoint %s (%s) paused: %s", endpoint.pk, endpoint.url, reason)
    mail_admins(
        f"Webhook endpoint paused: {endpoint}",
        f"Deliveries to {endpoint.url} are paused and held until staff resume the "
        f"endpoint in the admin.\n\nWhy: {reason}\n",
        fail_silently=True,
    )


def next_due_at() -> datetime.datetime | None:
    """When the earliest pending delivery of an endpoint that is not paused is due.

    Deliveries another worker holds are left out: that worker records them, and if it
    died the sweep finds them once their lease ends."""
    now = timezone.now()
    return (
        WebhookDelivery.objects.filter(
            state=DeliveryState.PENDING, endpoint__paused_at__isnull=True
        )
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .aggregate(at=Min("next_attempt_at"))["at"]
    )


def deliver_due(*, worker: str) -> DeliverySummary:
    """Claim and send due deliveries, batch after batch, for ``WEBHOOK_TASK_SECONDS``."""
    summary = DeliverySummary()
    deadline = time.monotonic() + setting("WEBHOOK_TASK_SECONDS")
    batch_size = setting("WEBHOOK_BATCH_SIZE")
    concurrency = setting("WEBHOOK_CONCURRENCY")
    while time.monotonic() < deadline:
        claimed = claim_due(limit=batch_size)
        if not claimed:
            break
        with ThreadPoolExecutor(
            max_workers=min(concurrency, len(claimed)), thread_name_prefix="webhook"
        ) as pool:
            results = list(pool.map(send, claimed))
        for item, result in zip(claimed, results, strict=True):
            attempt = record(item, result)
            summary.sent += 1
            if attempt.outcome == AttemptOutcome.SUCCEEDED:
                summary.succeeded += 1
            else:
                summary.failed += 1
    logger.debug("Webhook deliveries by %s: %s", worker, summary.as_dict())
    summary.next_due_at = next_due_at()
    return summary
