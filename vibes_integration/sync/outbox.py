"""Writes what Vibes must learn into the outbox, inside the caller's transaction.

These functions are called by the ``crm.signals`` receivers (so inside the ``crm``
service's transaction) and by staff actions. Each one coalesces with work that is still
waiting where that is safe, and makes sure a task will process the work: the task row is
written by the database task backend in this same transaction, so the change, its outbox
row and the task commit or roll back together.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from crm.models import OptInRequest, Person, SubscriptionList
from vibes_integration.sync import tasks
from vibes_integration.sync.choices import ACTIVE_STATUSES, OperationKind, OperationStatus
from vibes_integration.sync.models import Operation


def outbox_person_changed(
    *,
    person: Person | int,
    source: str,
    remove_mdn: bool = False,
    check_mdn: bool = False,
    schedule: bool = True,
) -> Operation | None:
    """Vibes must learn the person's current state; answers the new operation, if any.

    While an Update Person for this person is still waiting, a new edit only bumps its
    counter: it is sent once, with the state read at send time. An operation already
    being sent is left alone (it may have read the state already), so the edit gets a
    new operation behind it.
    """
    person_id = person if isinstance(person, int) else person.pk
    updates = {"edits": F("edits") + 1, "source": source, "updated_at": timezone.now()}
    if remove_mdn:
        updates["remove_mdn"] = True
    if check_mdn:
        updates["check_mdn"] = True
    waiting = Operation.objects.filter(
        person_id=person_id, kind=OperationKind.PERSON, status=OperationStatus.PENDING
    )
    if waiting.update(**updates):
        return None
    try:
        with transaction.atomic():
            operation = Operation.objects.create(
                kind=OperationKind.PERSON,
                person_id=person_id,
                source=source,
                remove_mdn=remove_mdn,
                check_mdn=check_mdn,
            )
    except IntegrityError:
        # Another transaction created the waiting operation first: merge into it.
        waiting.update(**updates)
        return None
    if schedule:
        tasks.ensure_processing()
    return operation


def outbox_persons_changed(*, person_ids: list[int], source: str) -> int:
    """``outbox_person_changed`` for many persons at once (backfill, resync); answers how
    many new operations were written. Does not schedule a task: the caller sends them."""
    with transaction.atomic():
        waiting = Operation.objects.filter(
            person_id__in=person_ids, kind=OperationKind.PERSON, status=OperationStatus.PENDING
        )
        merged = set(waiting.values_list("person_id", flat=True))
        waiting.update(edits=F("edits") + 1, source=source, updated_at=timezone.now())
        new = [
            Operation(kind=OperationKind.PERSON, person_id=person_id, source=source)
            for person_id in person_ids
            if person_id not in merged
        ]
        try:
            with transaction.atomic():
                Operation.objects.bulk_create(new)
        except IntegrityError:
            # An edit made one of them wait meanwhile: take them one by one.
            for operation in new:
                outbox_person_changed(person=operation.person_id, source=source, schedule=False)
    return len(new)


def outbox_opt_in(*, opt_in_request: OptInRequest, source: str) -> Operation | None:
    """Vibes must start the web double opt-in of this request's number to its list."""
    if Operation.objects.filter(opt_in_request=opt_in_request, status__in=ACTIVE_STATUSES).exists():
        return None
    operation = Operation.objects.create(
        kind=OperationKind.OPT_IN,
        person_id=opt_in_request.person_id,
        subscription_list_id=opt_in_request.subscription_list_id,
        opt_in_request=opt_in_request,
        source=source,
    )
    tasks.ensure_processing()
    return operation


def outbox_unsubscribe(
    *, person: Person, subscription_list: SubscriptionList, source: str
) -> Operation | None:
    """Vibes must take the person off the list.

    A second leave while the first is still the person's newest waiting operation adds
    nothing; after other work (a new opt-in to the same list) it must run again, in order.
    """
    newest = (
        Operation.objects.filter(person=person, status__in=ACTIVE_STATUSES).order_by("-id").first()
    )
    if (
        newest is not None
        and newest.status == OperationStatus.PENDING
        and newest.kind == OperationKind.UNSUBSCRIBE
        and newest.subscription_list_id == subscription_list.pk
    ):
        Operation.objects.filter(pk=newest.pk).update(edits=F("edits") + 1)
        return None
    operation = Operation.objects.create(
        kind=OperationKind.UNSUBSCRIBE,
        person=person,
        subscription_list=subscription_list,
        source=source,
    )
    tasks.ensure_processing()
    return operation
