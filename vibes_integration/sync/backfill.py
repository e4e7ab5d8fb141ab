"""Sends persons Vibes does not know yet (or everyone), resumably, in bounded memory.

Persons are read in keyset-paginated chunks (``id > last``, ordered by id), so memory
stays flat whatever the number of persons; each chunk goes through the outbox like any
other change (an Update Person per person, merged with any already waiting) and is sent
in this process, through the shared rate limit. A checkpoint row remembers the last
chunk finished: an interrupted run resumes there. Without ``everyone`` a person counts
as unknown to Vibes while it has no person key, so a rerun also skips whoever was sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from crm.choices import Source
from crm.models import Person
from vibes_integration.sync import outbox
from vibes_integration.sync.choices import ACTIVE_STATUSES
from vibes_integration.sync.engine import process_until_idle
from vibes_integration.sync.models import BackfillCheckpoint, Operation
from vibes_integration.sync.tasks import schedule_remaining

CHECKPOINT_UNKNOWN = "unknown"
CHECKPOINT_EVERYONE = "everyone"


@dataclass
class BackfillSummary:
    total: int = 0
    processed: int = 0
    resumed_after: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    left_to_worker: int = 0
    calls: int = 0


def persons_to_send(*, everyone: bool):
    persons = Person.objects.all()
    if not everyone:
        persons = persons.filter(person_key__isnull=True)
    return persons


def backfill(
    *,
    everyone: bool = False,
    restart: bool = False,
    chunk_size: int = 500,
    worker: str,
    on_progress: Callable[[BackfillSummary], None] | None = None,
) -> BackfillSummary:
    name = CHECKPOINT_EVERYONE if everyone else CHECKPOINT_UNKNOWN
    checkpoint, _created = BackfillCheckpoint.objects.get_or_create(name=name)
    if restart and checkpoint.last_person_id:
        checkpoint.last_person_id = 0
        checkpoint.save(update_fields=["last_person_id", "updated_at"])
    summary = BackfillSummary(resumed_after=checkpoint.last_person_id)
    persons = persons_to_send(everyone=everyone).order_by("id")
    summary.total = persons.filter(id__gt=checkpoint.last_person_id).count()
    last_id = checkpoint.last_person_id
    while True:
        ids = list(persons.filter(id__gt=last_id).values_list("id", flat=True)[:chunk_size])
        if not ids:
            break
        outbox.outbox_persons_changed(person_ids=ids, source=Source.IMPORT)
        sent = process_until_idle(worker=worker, person_ids=ids)
        summary.counts.update(sent.counts)
        summary.calls += sent.calls
        summary.left_to_worker += (
            Operation.objects.filter(person_id__in=ids, status__in=ACTIVE_STATUSES)
            .values("person_id")
            .distinct()
            .count()
        )
        last_id = ids[-1]
        BackfillCheckpoint.objects.filter(pk=checkpoint.pk).update(last_person_id=last_id)
        summary.processed += len(ids)
        if on_progress is not None:
            on_progress(summary)
    # A complete run: the next one starts from the beginning again.
    BackfillCheckpoint.objects.filter(pk=checkpoint.pk).delete()
    schedule_remaining()
    return summary
