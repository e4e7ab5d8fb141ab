"""Consent evidence: the story of a person's consent to each list, in the order it happened.

Built from the consent ledger (what was agreed, with the disclosure shown, where and how)
and the callback log (the Vibes events that confirmed it). The same structure renders the
printable page and the API's JSON, so both always say the same thing.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from crm.choices import ConsentAction
from crm.models import ConsentEvent, Person, Subscription, SubscriptionList
from crm.phone import mdn_text
from vibes_integration.callbacks.models import CallbackEvent

CALLBACK_REFERENCE = "callback:"
OPT_IN_ACTIONS = {ConsentAction.OPT_IN_REQUESTED, ConsentAction.OPTED_IN}


@dataclass(frozen=True)
class EvidenceEntry:
    """One line of the ledger, as the evidence tells it."""

    occurred_at: datetime.datetime
    recorded_at: datetime.datetime
    action: str
    action_label: str
    source: str
    source_label: str
    mdn: str
    ip_address: str
    user_agent: str
    disclosure_text: str
    opt_out_reason: str
    opt_out_reason_label: str
    reference: str
    vibes_event_id: str

    @property
    def is_opt_in(self) -> bool:
        return self.action in OPT_IN_ACTIONS

    @property
    def is_opt_out(self) -> bool:
        return self.action == ConsentAction.OPTED_OUT


@dataclass(frozen=True)
class VibesEvent:
    event_id: str
    callback_type: str
    event_date: datetime.datetime | None
    received_at: datetime.datetime


@dataclass
class ListEvidence:
    subscription_list: SubscriptionList
    state: str = ""
    state_label: str = ""
    entries: list[EvidenceEntry] = field(default_factory=list)
    vibes_events: list[VibesEvent] = field(default_factory=list)


@dataclass
class Evidence:
    person: Person
    generated_at: datetime.datetime
    lists: list[ListEvidence]


def _entry(event: ConsentEvent) -> EvidenceEntry:
    reference = event.reference or ""
    return EvidenceEntry(
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        action=event.action,
        action_label=str(event.get_action_display()),
        source=event.source,
        source_label=str(event.get_source_display()),
        mdn=mdn_text(event.mdn),
        ip_address=event.ip_address or "",
        user_agent=event.user_agent or "",
        disclosure_text=event.disclosure_text or "",
        opt_out_reason=event.opt_out_reason or "",
        opt_out_reason_label=str(event.get_opt_out_reason_display())
        if event.opt_out_reason
        else "",
        reference=reference,
        vibes_event_id=reference[len(CALLBACK_REFERENCE) :]
        if reference.startswith(CALLBACK_REFERENCE)
        else "",
    )


def consent_evidence(*, person: Person, list_id: str | None = None) -> Evidence:
    """The evidence for ``person`` on one list (``list_id``), or on every list they have
    a ledger line, a subscription or a Vibes event for."""
    events = ConsentEvent.objects.filter(person=person).select_related("subscription_list")
    subscriptions = Subscription.objects.filter(person=person).select_related("subscription_list")
    callbacks = CallbackEvent.objects.filter(person=person, subscription_list__isnull=False)
    if list_id is not None:
        events = events.filter(subscription_list__list_id=list_id)
        subscriptions = subscriptions.filter(subscription_list__list_id=list_id)
        callbacks = callbacks.filter(subscription_list__list_id=list_id)

    by_list: dict[int, ListEvidence] = {}

    def of(subscription_list: SubscriptionList) -> ListEvidence:
        if subscription_list.pk not in by_list:
            by_list[subscription_list.pk] = ListEvidence(subscription_list=subscription_list)
        return by_list[subscription_list.pk]

    for event in events.order_by("occurred_at", "id"):
        of(event.subscription_list).entries.append(_entry(event))
    for subscription in subscriptions:
        evidence = of(subscription.subscription_list)
        evidence.state = subscription.state
        evidence.state_label = str(subscription.get_state_display())
    vibes: dict[int, list[VibesEvent]] = defaultdict(list)
    for callback in callbacks.select_related("subscription_list").order_by("received_at", "id"):
        of(callback.subscription_list)
        vibes[callback.subscription_list_id].append(
            VibesEvent(
                event_id=callback.event_id,
                callback_type=callback.callback_type,
                event_date=callback.event_date,
                received_at=callback.received_at,
            )
        )
    for pk, found in vibes.items():
        by_list[pk].vibes_events = found
    lists = sorted(
        by_list.values(), key=lambda e: (e.subscription_list.order, e.subscription_list.name)
    )
    return Evidence(person=person, generated_at=timezone.now(), lists=lists)


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def evidence_as_dict(evidence: Evidence) -> dict[str, Any]:
    """The evidence as the API returns it."""
    person = evidence.person
    return {
        "person": {
            "id": person.pk,
            "external_person_id": person.external_person_id,
            "person_key": person.person_key,
            "mdn": mdn_text(person.mdn) or None,
        },
        "generated_at": _iso(evidence.generated_at),
        "lists": [
            {
                "list_id": found.subscription_list.list_id,
                "name": found.subscription_list.name,
                "state": found.state or None,
                "timeline": [
                    {
                        "occurred_at": _iso(entry.occurred_at),
                        "recorded_at": _iso(entry.recorded_at),
                        "action": entry.action,
                        "source": entry.source,
                        "mdn": entry.mdn or None,
                        "ip_address": entry.ip_address or None,
                        "user_agent": entry.user_agent or None,
                        "disclosure_text": entry.disclosure_text or None,
                        "opt_out_reason": entry.opt_out_reason or None,
                        "reference": entry.reference or None,
                        "vibes_event_id": entry.vibes_event_id or None,
                    }
                    for entry in found.entries
                ],
                "vibes_events": [
                    {
                        "event_id": event.event_id,
                        "callback_type": event.callback_type,
                        "event_date": _iso(event.event_date),
                        "received_at": _iso(event.received_at),
                    }
                    for event in found.vibes_events
                ],
            }
            for found in evidence.lists
        ],
    }
