"""Which operations a worker may send now, and how it takes them without racing others.

An operation is due when it is pending and its retry time has come, or when the worker
that claimed it let its lease expire (it died, or was killed mid-call). Only the oldest
unfinished operation of each person is due, so that a person's operations reach Vibes
in the order they were made; an operation waiting for a retry holds back the ones
after it. A claim marks a batch with one token and a lease: whatever the worker records
later is checked against that token, so a worker that comes back after losing its lease
cannot overwrite what another worker did since.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from prefcenter.conf import setting
from vibes_integration.sync.choices import ACTIVE_STATUSES, OperationKind, OperationStatus
from vibes_integration.sync.models import Operation


@dataclass
class Claim:
    token: str
    operations: list[Operation] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.operations)


def due_operations(
    now: datetime.datetime | None = None, person_ids: Collection[int] | None = None
) -> QuerySet[Operation]:
    now = now or timezone.now()
    earlier_unfinished = Operation.objects.filter(
        person_id=OuterRef("person_id"), id__lt=OuterRef("id"), status__in=ACTIVE_STATUSES
    )
    due = Operation.objects.filter(
        Q(status=OperationStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=OperationStatus.RUNNING, lease_expires_at__lte=now)
    ).filter(~Exists(earlier_unfinished))
    if person_ids is not None:
        due = due.filter(person_id__in=person_ids)
    return due


def new_claim_token() -> str:
    return secrets.token_hex(16)


def claim_due(
    *,
    worker: str,
    limit: int,
    person_ids: Collection[int] | None = None,
    token: str | None = None,
) -> Claim:
    """Take up to ``limit`` due operations (at most one per person) for this worker.

    A caller that must be able to give the claim back whatever happens (Ctrl-C landing
    right after the commit) makes the ``token`` itself and remembers it first.
    """
    now = timezone.now()
    lease = datetime.timedelta(seconds=setting("VIBES_SYNC_LEASE_SECONDS"))
    claim = Claim(token=token or new_claim_token())
    with transaction.atomic():
        ids = list(
            due_operations(now, person_ids)
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return claim
        Operation.objects.filter(id__in=ids).update(
            status=OperationStatus.RUNNING,
            claim_token=claim.token,
            claimed_by=worker[:100],
            lease_expires_at=now + lease,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    claim.operations = list(
        Operation.objects.filter(claim_token=claim.token, status=OperationStatus.RUNNING)
        .select_related("subscription_list")
        .order_by("id")
    )
    return claim


def has_due(
    person_ids: Collection[int] | None = None, *, now: datetime.datetime | None = None
) -> bool:
    return due_operations(now, person_ids).exists()


def next_wakeup(
    person_ids: Collection[int] | None = None, *, now: datetime.datetime | None = None
) -> datetime.datetime | None:
    """When the earliest operation that is not due at ``now`` becomes due (a retry, a lease).

    Only moments after ``now`` count: an operation held back by its person's earlier one
    becomes due when that one finishes, and the worker finishing it schedules the next.
    Ask ``has_due`` with the same ``now``, so that no operation falls between the two.
    """
    now = now or timezone.now()
    operations = Operation.objects.all()
    if person_ids is not None:
        operations = operations.filter(person_id__in=person_ids)
    times = operations.aggregate(
        retry=Min(
            "next_attempt_at",
            filter=Q(status=OperationStatus.PENDING, next_attempt_at__gt=now),
        ),
        lease=Min(
            "lease_expires_at",
            filter=Q(status=OperationStatus.RUNNING, lease_expires_at__gt=now),
        ),
    )
    candidates = [moment for moment in times.values() if moment is not None]
    return min(candidates) if candidates else None


def release_expired_leases() -> int:
    """Put operations whose worker died back in the queue (counted as an attempt)."""
    now = timezone.now()
    released = 0
    expired = Operation.objects.filter(
        status=OperationStatus.RUNNING, lease_expires_at__lte=now
    ).values_list("id", flat=True)
    for operation_id in list(expired[:10000]):
        with transaction.atomic():
            operation = (
                Operation.objects.select_for_update()
                .filter(pk=operation_id, status=OperationStatus.RUNNING, lease_expires_at__lte=now)
                .first()
            )
            if operation is None:
                continue
            return_to_queue(operation, next_attempt_at=now, claim_token=operation.claim_token)
            released += 1
    return released


def release_claim(claim_token: str) -> int:
    """Give back the operations of a claim that were not recorded (a clean stop)."""
    released = 0
    now = timezone.now()
    for operation in Operation.objects.filter(
        claim_token=claim_token, status=OperationStatus.RUNNING
    ):
        with transaction.atomic():
            released += return_to_queue(
                operation,
                next_attempt_at=now,
                claim_token=claim_token,
                attempts=F("attempts") - 1,
            )
    return released


def return_to_queue(
    operation: Operation, *, next_attempt_at: datetime.datetime, claim_token: str, **fields
) -> bool:
    """Make a claimed operation pending again, merging a newer waiting Update Person into it.

    The older operation keeps its place in the person's order; the newer one, which only
    said "send the latest state", has nothing left to add and is marked merged.
    """
    now = timezone.now()
    if operation.kind == OperationKind.PERSON:
        newer = (
            Operation.objects.select_for_update()
            .filter(
                person_id=operation.person_id,
                kind=OperationKind.PERSON,
                status=OperationStatus.PENDING,
            )
            .exclude(pk=operation.pk)
            .first()
        )
        if newer is not None:
            Operation.objects.filter(pk=newer.pk).update(
                status=OperationStatus.COALESCED,
                finished_at=now,
                error=f"#{operation.pk}",
                updated_at=now,
            )
            fields["edits"] = F("edits") + newer.edits
            if newer.remove_mdn:
                fields["remove_mdn"] = True
    return bool(
        Operation.objects.filter(
            pk=operation.pk, claim_token=claim_token, status=OperationStatus.RUNNING
        ).update(
            status=OperationStatus.PENDING,
            next_attempt_at=next_attempt_at,
            lease_expires_at=None,
            claim_token="",
            updated_at=now,
            **fields,
        )
    )
