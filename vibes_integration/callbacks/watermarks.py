"""Per-person and per-list memory that lets late callbacks change nothing.

See ``CallbackWatermark``. Two rules use it:

- an event older than the newest event applied to the same person or list is stale;
- a person event older than a change the CRM itself made to one of the person's fields
  leaves that field alone (the outbound sync is about to send the newer value to Vibes,
  and Vibes' next person callback will carry it back).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.dispatch import receiver
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crm import signals
from crm.choices import Source
from vibes_integration.callbacks.models import CallbackEvent, CallbackWatermark


def person_subject(person_pk: int) -> str:
    return f"person:{person_pk}"


def list_subject(list_id: str) -> str:
    return f"list:{list_id}"


def watermark_lock(subject: str) -> CallbackWatermark:
    """The subject's watermark, created if needed and locked until the transaction ends."""
    watermark, _ = CallbackWatermark.objects.select_for_update().get_or_create(subject=subject)
    return watermark


def is_stale(watermark: CallbackWatermark, event_date: datetime.datetime) -> bool:
    return watermark.event_date is not None and event_date < watermark.event_date


def fields_changed_locally_since(
    watermark: CallbackWatermark, event_date: datetime.datetime
) -> set[str]:
    newer = set()
    for name, stamp in (watermark.local_changes or {}).items():
        changed_at = parse_datetime(stamp) if isinstance(stamp, str) else None
        if changed_at is not None and changed_at > event_date:
            newer.add(name)
    return newer


def watermark_advance(
    watermark: CallbackWatermark, event_date: datetime.datetime, callback_event: CallbackEvent
) -> None:
    """Record ``event_date`` as applied unless a newer one already is."""
    if watermark.event_date is not None and event_date < watermark.event_date:
        return
    watermark.event_date = event_date
    watermark.callback_event = callback_event
    watermark.save(update_fields=["event_date", "callback_event", "updated_at"])


@receiver(signals.person_changed, dispatch_uid="vibes_callbacks_local_person_change")
def remember_local_person_change(
    sender: Any, person: Any, created: bool, changed_fields: frozenset[str], source: str, **kwargs
) -> None:
    """Note when the CRM, not a callback, changed a person's fields (see module docstring).

    Creating a person is not noted (an import creates thousands): Vibes hears of a new
    person from the CRM, so nothing it sends about them predates the CRM's values.
    """
    if source == Source.VIBES or created or not changed_fields:
        return
    now = timezone.now().isoformat()
    watermark = watermark_lock(person_subject(person.pk))
    watermark.local_changes = {
        **(watermark.local_changes or {}),
        **dict.fromkeys(changed_fields, now),
    }
    watermark.save(update_fields=["local_changes", "updated_at"])
