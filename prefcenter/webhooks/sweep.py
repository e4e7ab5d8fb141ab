"""The webhooks' part of the periodic sweep (``vibes_sync --loop``): a task for work that
no task is going to do (a lost task, a worker that died holding a lease), and pruning."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from prefcenter.conf import setting
from prefcenter.webhooks import tasks
from prefcenter.webhooks.choices import DeliveryState
from prefcenter.webhooks.delivery import next_due_at
from prefcenter.webhooks.models import WebhookMessage


@dataclass(frozen=True)
class WebhookSweepReport:
    next_due_at: datetime.datetime | None
    pruned_messages: int


def webhooks_sweep() -> WebhookSweepReport:
    due = next_due_at()
    if due is not None:
        tasks.nudge(run_after=due)
    return WebhookSweepReport(next_due_at=due, pruned_messages=prune())


def prune() -> int:
    """Delete events older than ``WEBHOOK_RETENTION_DAYS`` that nothing still waits to send
    (with their deliveries and attempts)."""
    cutoff = timezone.now() - datetime.timedelta(days=setting("WEBHOOK_RETENTION_DAYS"))
    old = WebhookMessage.objects.filter(created_at__lt=cutoff).exclude(
        deliveries__state=DeliveryState.PENDING
    )
    _deleted, by_model = old.delete()
    return by_model.get(WebhookMessage._meta.label, 0)
