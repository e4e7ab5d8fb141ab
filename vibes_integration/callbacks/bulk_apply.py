"""Set-based apply of a batch's plain subscription callbacks: a few statements per batch.

Most callbacks are ``subscription_added`` / ``subscription_removed`` for persons the CRM
already knows. Applied one by one, each costs about five statements, nearly all of them
Django building the same queries again; here the batch's persons and lists are read in
one query each and ``crm.services.subscriptions_report_many`` writes the subscriptions
and ledger lines of all of them together.

Only events whose outcome cannot depend on the rest of the batch are taken, so that
applying them first, together, ends exactly as applying the batch in order would:

- a subscription event with a date, first attempt, no note to write (not a test, no
  unknown opt-out reason), for a list that exists;
- naming its person by person key and/or external id (and legacy person id) exactly as
  the CRM holds them, an external id only once Vibes is known to hold it (the person is
  found without creating anyone or adopting an id, so no note either);
- and no other event of the batch names that person by any of their external id, person
  key or number: a second event for them, a person event that could change their ids, or
  an event that resolves to them in another way goes one by one, in order, and so do the
  events of every other type. A batch with an acknowledgement of a web opt-in is applied
  one by one entirely (an opt-in request may name a number that is not its person's).

A stale event (older than its subscription's last one) is left to the per-event path too.
``ENABLED`` switches all of this off (tests compare both paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q

from crm import services
from crm.choices import OptOutReason, Source
from crm.models import Person, SubscriptionList
from crm.phone import mdn_text, try_parse_mdn
from vibes_integration.callbacks.events import (
    CallbackEventData,
    CallbackType,
    ParticipantEvent,
    PersonRef,
    SubscriptionEvent,
)
from vibes_integration.callbacks.handlers import HandlerContext
from vibes_integration.callbacks.handlers.subscriptions import subscription_report
from vibes_integration.callbacks.models import CallbackEvent
from vibes_integration.callbacks.parsing import parse_body

ENABLED = True
# Below this many qualifying events the two reads cost more than they save.
MIN_EVENTS = 2

_TYPES = (CallbackType.SUBSCRIPTION_ADDED, CallbackType.SUBSCRIPTION_REMOVED)


@dataclass
class Planned:
    """A qualifying event with what it resolves to."""

    callback_event: CallbackEvent
    payload: dict[str, Any]
    event: SubscriptionEvent
    person: Person
    subscription_list: SubscriptionList


def plan(callback_events: list[CallbackEvent]) -> list[Planned]:
    """The events of a claimed batch that can be applied together (reads only)."""
    if not ENABLED or not connection.features.can_return_rows_from_bulk_insert:
        return []
    parsed = [(callback_event, *_parsed(callback_event)) for callback_event in callback_events]
    events = [event for _, _, event in parsed if event is not None]
    if any(isinstance(event, ParticipantEvent) for event in events):
        return []
    candidates = [(ce, payload, event) for ce, payload, event in parsed if _qualifies(ce, event)]
    if len(candidates) < MIN_EVENTS:
        return []
    holders: dict[tuple[str, str], set[int]] = {}
    for callback_event, _, event in parsed:
        ref = getattr(event, "person", None)
        if isinstance(ref, PersonRef):
            for identifier in _ref_identifiers(ref):
                holders.setdefault(identifier, set()).add(callback_event.pk)
    persons = _persons([event.person for _, _, event in candidates])
    lists = {
        subscription_list.list_id: subscription_list
        for subscription_list in SubscriptionList.objects.filter(
            list_id__in={event.list_id for _, _, event in candidates}
        ).order_by()
    }
    planned = []
    for callback_event, payload, event in candidates:
        person = _known(event.person, persons)
        subscription_list = lists.get(event.list_id)
        if person is None or subscription_list is None:
            continue
        identifiers = _ref_identifiers(event.person) | _person_identifiers(person)
        if any(holders.get(i, set()) - {callback_event.pk} for i in identifiers):
            continue
        planned.append(Planned(callback_event, payload, event, person, subscription_list))
    return planned if len(planned) >= MIN_EVENTS else []


def apply(planned: list[Planned]) -> list[Planned]:
    """Write the planned events' subscriptions and ledger lines in the caller's
    transaction; answers those applied (the stale ones are not)."""
    reports = [
        subscription_report(
            item.event,
            HandlerContext(
                callback_event=item.callback_event, event_date=item.event.envelope.event_date
            ),
            person=item.person,
            subscription_list=item.subscription_list,
        )
        for item in planned
    ]
    changes = services.subscriptions_report_many(reports=reports, source=Source.VIBES)
    return [item for item, change in zip(planned, changes, strict=True) if not change.stale]


def _parsed(callback_event: CallbackEvent) -> tuple[dict[str, Any], CallbackEventData | None]:
    if callback_event.body_truncated:  # recorded invalid one by one, whatever its start says
        return {}, None
    try:
        return parse_body(callback_event.body)
    except Exception:
        # Applied one by one, it is recorded invalid or failed, and changes nothing else.
        return {}, None


def _qualifies(callback_event: CallbackEvent, event: CallbackEventData | None) -> bool:
    if not isinstance(event, SubscriptionEvent):
        return False
    envelope = event.envelope
    ref = event.person
    removed = envelope.callback_type == CallbackType.SUBSCRIPTION_REMOVED
    return (
        envelope.callback_type in _TYPES
        and not envelope.is_test
        and envelope.event_date is not None
        and not getattr(callback_event, "requested_test", False)
        and callback_event.attempts == 0
        and bool(event.list_id)
        and bool(ref.external_person_id or ref.person_key)
        and (event.opt_out_reason == "" or event.opt_out_reason in OptOutReason.values)
        and not (removed and event.remote_opt_out_reason and not event.opt_out_reason)
    )


def _persons(refs: list[PersonRef]) -> dict[tuple[str, str], Person]:
    external_ids = {ref.external_person_id for ref in refs if ref.external_person_id}
    person_keys = {ref.person_key for ref in refs if ref.person_key}
    found = Person.objects.filter(
        Q(external_person_id__in=external_ids) | Q(person_key__in=person_keys)
    ).order_by()
    persons: dict[tuple[str, str], Person] = {}
    for person in found:
        persons[("ext", person.external_person_id)] = person
        if person.person_key:
            persons[("key", person.person_key)] = person
    return persons


def _known(ref: PersonRef, persons: dict[tuple[str, str], Person]) -> Person | None:
    """The person ``matching.person_resolve`` would answer without writing or noting
    anything, else None (unknown, or Vibes' ids differ from what the CRM holds)."""
    if ref.person_key:
        person = persons.get(("key", ref.person_key))
    else:
        person = persons.get(("ext", ref.external_person_id or ""))
    if person is None:
        return None
    if ref.external_person_id and (
        person.external_person_id != ref.external_person_id or not person.external_id_in_vibes
    ):
        return None
    if ref.person_id and person.vibes_person_id != ref.person_id:
        return None
    return person


def _ref_identifiers(ref: PersonRef) -> set[tuple[str, str]]:
    identifiers = {
        ("ext", str(ref.external_person_id or "").strip()),
        ("key", str(ref.person_key or "").strip()),
        ("pid", str(ref.person_id or "").strip()),
        ("mdn", (try_parse_mdn(ref.mdn) if ref.mdn else None) or str(ref.mdn or "").strip()),
    }
    return {(kind, value) for kind, value in identifiers if value}


def _person_identifiers(person: Person) -> set[tuple[str, str]]:
    identifiers = {
        ("ext", person.external_person_id or ""),
        ("key", person.person_key or ""),
        ("pid", person.vibes_person_id or ""),
        ("mdn", mdn_text(person.mdn)),
    }
    return {(kind, value) for kind, value in identifiers if value}
