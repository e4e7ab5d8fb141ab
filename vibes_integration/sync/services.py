"""What staff can do to the outbound sync: retry failed work, resync persons."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.choices import Source
from vibes_integration.sync import outbox, tasks
from vibes_integration.sync.choices import (
    ACTIVE_STATUSES,
    PROBLEM_STATUSES,
    OperationKind,
    OperationStatus,
)
from vibes_integration.sync.models import Operation


@transaction.atomic
def operations_retry(*, operation_ids: Iterable[int]) -> int:
    """Send failed or conflicting operations again, from their first attempt.

    A failed Update Person whose person already has a newer one waiting is not needed:
    the waiting one sends the latest state, so the failed one is only marked resolved.
    Answers how many operations will be sent again.
    """
    now = timezone.now()
    retried = 0
    problems = (
        Operation.objects.select_for_update()
        .filter(pk__in=list(operation_ids), status__in=PROBLEM_STATUSES)
        .order_by("id")
    )
    for operation in problems:
        if operation.kind == OperationKind.PERSON:
            waiting = Operation.objects.filter(
                person_id=operation.person_id,
                kind=OperationKind.PERSON,
                status=OperationStatus.PENDING,
            )
            if waiting.exists():
                if operation.remove_mdn:
                    waiting.update(remove_mdn=True)
                Operation.objects.filter(pk=operation.pk).update(resolved=True, updated_at=now)
                retried += 1
                continue
        try:
            with transaction.atomic():
                Operation.objects.filter(pk=operation.pk).update(
                    status=OperationStatus.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    lease_expires_at=None,
                    claim_token="",
                    finished_at=None,
                    resolved=False,
                    updated_at=now,
                )
        except IntegrityError:
            # An edit made an Update Person wait for this person just now: it sends all.
            Operation.objects.filter(pk=operation.pk).update(resolved=True, updated_at=now)
        retried += 1
    if retried:
        tasks.ensure_processing()
    return retried


@transaction.atomic
def persons_resync(*, person_ids: Iterable[int], source: str = Source.STAFF) -> int:
    """Send each person's current state to Vibes again (one Update Person each)."""
    count = 0
    chunk: list[int] = []
    for person_id in person_ids:
        chunk.append(person_id)
        if len(chunk) == 1000:
            outbox.outbox_persons_changed(person_ids=chunk, source=source)
            count, chunk = count + len(chunk), []
    if chunk:
        outbox.outbox_persons_changed(person_ids=chunk, source=source)
        count += len(chunk)
    if count:
        tasks.ensure_processing()
    return count


def operations_settle_seeded(*, person_ids: Iterable[int], note: str) -> int:
    """Mark the waiting operations of these persons as having nothing left to send.

    For persons whose state was given to Vibes by another way (the demo seeds the local
    sandbox with the same history it writes to the CRM): sending it again would only
    repeat what Vibes already holds. Returns how many operations were settled.
    """
    now = timezone.now()
    return Operation.objects.filter(
        person_id__in=list(person_ids), status__in=ACTIVE_STATUSES
    ).update(status=OperationStatus.SKIPPED, error=note, finished_at=now, updated_at=now)
