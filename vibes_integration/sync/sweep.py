"""The sweep: finds outbound work that nothing is going to do, and gets it done.

A task can be lost (its row deleted, a worker stopped for good) and a worker can die in
the middle of a call; the outbox still says what Vibes must learn. The sweep returns
operations whose lease expired to the queue, makes sure a task exists for every due
operation and for the next retry, lets lapsed web opt-ins expire (Vibes sends nothing
when a confirmation text goes unanswered), and prunes finished records past the
retention period. ``vibes_sync --loop`` runs it every ``VIBES_SYNC_SWEEP_INTERVAL``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import services
from crm.choices import OptInStatus, Source
from crm.models import OptInRequest
from prefcenter.access.retention import retention_sweep
from prefcenter.conf import setting
from prefcenter.webhooks.sweep import webhooks_sweep
from vibes_integration.callbacks.registration_jobs import due_registration_jobs
from vibes_integration.callbacks.tasks import schedule_registration_jobs
from vibes_integration.sync.choices import PROBLEM_STATUSES, SETTLED_STATUSES
from vibes_integration.sync.claims import due_operations, release_expired_leases
from vibes_integration.sync.models import Operation, OutboundCall
from vibes_integration.sync.tasks import schedule_remaining


@dataclass(frozen=True)
class SweepReport:
    released: int
    due: int
    expired_opt_ins: int
    pruned_operations: int
    pruned_calls: int


def sweep(*, schedule: bool = True) -> SweepReport:
    released = release_expired_leases()
    expired = expire_lapsed_opt_ins()
    due = due_operations().count()
    if schedule:
        schedule_remaining()
        if due_registration_jobs().exists():  # a callback registration whose task was lost
            schedule_registration_jobs()
    pruned_operations, pruned_calls = prune()
    webhooks_sweep()  # due webhook deliveries whose task was lost; old events pruned
    retention_sweep()  # personal data in logs past its retention (docs/access.md)
    return SweepReport(
        released=released,
        due=due,
        expired_opt_ins=expired,
        pruned_operations=pruned_operations,
        pruned_calls=pruned_calls,
    )


def expire_lapsed_opt_ins() -> int:
    """Web opt-ins whose confirmation text lapsed unanswered: the list is not joined."""
    lapsed = OptInRequest.objects.filter(
        status=OptInStatus.PENDING, expire_date__lt=timezone.now()
    ).order_by("id")
    count = 0
    for opt_in_request in lapsed[:1000]:
        services.opt_in_request_update(
            opt_in_request=opt_in_request,
            status=OptInStatus.EXPIRED,
            source=Source.VIBES,
            message=_("The confirmation text expired without a reply. You can ask for a new one."),
        )
        count += 1
    return count


def prune() -> tuple[int, int]:
    """Delete settled operations and calls older than ``VIBES_SYNC_RETENTION_DAYS``."""
    days = setting("VIBES_SYNC_RETENTION_DAYS")
    cutoff = timezone.now() - datetime.timedelta(days=days)
    operations, _detail = (
        Operation.objects.filter(finished_at__lt=cutoff)
        .filter(Q(status__in=SETTLED_STATUSES) | Q(status__in=PROBLEM_STATUSES, resolved=True))
        .delete()
    )
    calls, _detail = OutboundCall.objects.filter(made_at__lt=cutoff).delete()
    return operations, calls
