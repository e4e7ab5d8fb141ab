"""Reads of the callback log for the admin and the command."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.phone import try_parse_mdn
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus


def callback_event_search(
    term: str, queryset: QuerySet[CallbackEvent] | None = None
) -> QuerySet[CallbackEvent]:
    """Events matching what staff typed: an event id, a number in any format, a Vibes
    person key, an external id or a list id. Exact matches on indexed columns only."""
    queryset = CallbackEvent.objects.all() if queryset is None else queryset
    term = term.strip()
    if not term:
        return queryset
    condition = (
        Q(event_id=term)
        | Q(person_key=term)
        | Q(external_person_id=term)
        | Q(list_id=term)
        | Q(person__external_person_id=term)
    )
    mdn = try_parse_mdn(term)
    if mdn:
        condition |= Q(mdn=mdn) | Q(person__mdn=mdn)
    return queryset.filter(condition)


def callback_events_by_id(event_ids: list[str]) -> QuerySet[CallbackEvent]:
    return CallbackEvent.objects.filter(event_id__in=event_ids)


def callback_events_with_status(status: CallbackStatus) -> QuerySet[CallbackEvent]:
    return CallbackEvent.objects.filter(status=status)


def callback_events_stuck(minutes: float) -> QuerySet[CallbackEvent]:
    """Events still waiting this long after they arrived: their processing run was lost."""
    before = timezone.now() - datetime.timedelta(minutes=minutes)
    return CallbackEvent.objects.filter(status=CallbackStatus.RECEIVED, received_at__lt=before)
