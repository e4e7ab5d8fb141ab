"""How one person in the CRM differs from the same person in Vibes, and the repair of each
difference.

Which side is right depends on what differs. Subscriptions and the mobile number: Vibes
is the opt-in database, so what it holds wins, unless the CRM's own change is newer
(a leave not sent yet is sent). Names and custom fields: persons with outbound work
pending are not compared at all, so a difference means either that Vibes changed the
person (its callback was lost: Vibes' values are taken) or that the CRM's last change
failed to reach Vibes (an unresolved failed Update Person: it is sent again).
Differences that only a person can settle (two different numbers, a subscription Vibes
never had) are reported and left alone. Repairs that change the CRM go through
``crm.services`` with ``source=Source.VIBES``, so they are not echoed back.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from crm import services
from crm.choices import Source, SubscriptionState
from crm.models import CustomField, OptInRequest, Person, Subscription, SubscriptionList
from crm.phone import mask_mdn
from vibes_integration.sync import outbox
from vibes_integration.sync.list_repairs import list_repair
from vibes_integration.sync.number_holders import number_holder_repairs
from vibes_integration.sync.payloads import (
    from_vibes_value,
    parse_vibes_datetime,
    vibes_mdn,
    vibes_person_key,
)
from vibes_integration.sync.repairs import A_PERSON_DECIDES, CRM_IS_RIGHT, VIBES_IS_RIGHT, Repair


@dataclass
class RemoteState:
    """What Vibes holds about one person (``person`` None: Vibes does not know them)."""

    person: dict[str, Any] | None = None
    subscriptions: list[dict[str, Any]] | None = None
    error: str = ""
    # Another Vibes person holding the CRM person's number (``number_holders``).
    number_holder: dict[str, Any] | None = None


@dataclass(frozen=True)
class CrmContext:
    """What comparing a chunk of persons needs from the CRM, read once per chunk."""

    definitions: Mapping[str, CustomField]
    field_map: Mapping[str, str]
    lists: Mapping[str, SubscriptionList]
    subscriptions: Mapping[int, list[Subscription]]
    open_requests: Mapping[tuple[int, int], OptInRequest]
    unsent: frozenset[int]


def person_repairs(person: Person, remote: RemoteState, context: CrmContext) -> list[Repair]:
    holder = (
        number_holder_repairs(person, remote.person, remote.number_holder)
        if remote.number_holder
        else []
    )
    if remote.person is None:
        if holder:
            return holder
        if person.vibes_person_id:
            return [
                Repair(
                    _(
                        "Vibes knows this person by person id %(id)s, but neither their "
                        "person key, external id nor number finds them"
                    )
                    % {"id": person.vibes_person_id},
                    right=A_PERSON_DECIDES,
                )
            ]
        return [
            Repair(
                _("Vibes does not know this person"),
                lambda: outbox.outbox_person_changed(person=person, source=Source.STAFF),
                right=CRM_IS_RIGHT,
                action=_("send them to Vibes"),
            )
        ]
    repairs = _identity_repairs(person, remote.person, number_held_elsewhere=bool(holder))
    repairs += holder
    repairs += _field_repairs(person, remote.person, context)
    repairs += _subscription_repairs(person, remote, context)
    return repairs


def _identity_repairs(
    person: Person, remote: dict[str, Any], *, number_held_elsewhere: bool = False
) -> list[Repair]:
    repairs = _external_id_repairs(person, remote)
    key = vibes_person_key(remote)
    if key and key != person.person_key:
        if Person.objects.filter(person_key=key).exclude(pk=person.pk).exists():
            repairs.append(
                Repair(
                    _("Vibes key %(key)s belongs to another CRM person") % {"key": key},
                    right=A_PERSON_DECIDES,
                )
            )
        else:
            repairs.append(
                Repair(
                    _("Vibes knows this person by key %(key)s, the CRM does not") % {"key": key},
                    lambda: services.person_update(
                        person=person, person_key=key, source=Source.VIBES
                    ),
                    right=VIBES_IS_RIGHT,
                    action=_("link the key"),
                )
            )
    held, ours = vibes_mdn(remote), (str(person.mdn) if person.mdn else None)
    if held == ours or (number_held_elsewhere and not held):
        # A number held by another Vibes record is reported with that record.
        return repairs
    shown = {"vibes": mask_mdn(held) or "-", "crm": mask_mdn(ours) or "-"}
    if held and ours:
        repairs.append(
            Repair(
                _(
                    "Numbers differ (Vibes %(vibes)s, CRM %(crm)s): the CRM's number must "
                    "join through the web opt-in"
                )
                % shown,
                right=A_PERSON_DECIDES,
            )
        )
    elif held and Person.objects.filter(mdn=held).exclude(pk=person.pk).exists():
        repairs.append(
            Repair(
                _("Vibes number %(vibes)s belongs to another CRM person") % shown,
                right=A_PERSON_DECIDES,
            )
        )
    else:
        repairs.append(
            Repair(
                _("Number: Vibes holds %(vibes)s, the CRM %(crm)s") % shown,
                lambda: services.person_update(person=person, mdn=held, source=Source.VIBES),
                right=VIBES_IS_RIGHT,
                action=_("take Vibes' number"),
            )
        )
    return repairs


def _external_id_repairs(person: Person, remote: dict[str, Any]) -> list[Repair]:
    """Whether Vibes holds the CRM's external id decides how the sync names the person."""
    holds = remote.get("external_person_id") == person.external_person_id
    if holds == person.external_id_in_vibes:
        return []
    if holds:
        text = _("Vibes holds the CRM's external id: calls may name the person by it")
    else:
        text = _("Vibes does not hold the CRM's external id: calls name the person by key")
    return [
        Repair(
            text,
            lambda: services.person_update(
                person=person, external_id_in_vibes=holds, source=Source.VIBES
            ),
            right=VIBES_IS_RIGHT,
            action=_("record how Vibes knows the person"),
        )
    ]


def _field_repairs(person: Person, remote: dict[str, Any], context: CrmContext) -> list[Repair]:
    remote_fields = remote.get("custom_fields") or {}
    attributes: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for attribute, key in context.field_map.items():
        theirs = remote_fields.get(key) or ""
        if not isinstance(theirs, str):
            continue
        if theirs.strip() != getattr(person, attribute):
            attributes[attribute] = theirs.strip()
    for key, definition in context.definitions.items():
        if key in context.field_map.values():
            continue
        raw = remote_fields.get(key)
        theirs = from_vibes_value(definition, raw)
        if theirs is None and raw not in (None, "", []):
            continue  # a value the CRM cannot read: not comparable
        if not _same_value(theirs, person.custom_fields.get(key)):
            custom[key] = theirs
    if not attributes and not custom:
        return []
    names = ", ".join(sorted([*attributes, *custom]))
    if person.pk in context.unsent:
        return [
            Repair(
                _("Fields differ (%(names)s); the CRM's change never reached Vibes")
                % {"names": names},
                lambda: outbox.outbox_person_changed(person=person, source=Source.STAFF),
                right=CRM_IS_RIGHT,
                action=_("send the CRM's values to Vibes"),
            )
        ]

    def adopt() -> None:
        arguments: dict[str, Any] = dict(attributes)
        if custom:
            arguments["custom_fields"] = custom
        services.person_update(person=person, source=Source.VIBES, **arguments)

    return [
        Repair(
            _("Fields differ (%(names)s); changed in Vibes") % {"names": names},
            adopt,
            right=VIBES_IS_RIGHT,
            action=_("take Vibes' values into the CRM"),
        )
    ]


def _same_value(theirs: Any, ours: Any) -> bool:
    """Equal values; a multiple choice is a set (Vibes may answer it in another order)."""
    if isinstance(theirs, list | tuple) and isinstance(ours, list | tuple):
        return sorted(map(str, theirs)) == sorted(map(str, ours))
    return theirs == ours


def _latest_by_list(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each list's subscription record that counts: the active one, else the newest."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        list_id = str((record.get("subscription_list") or {}).get("id") or "")
        if not list_id:
            continue
        current = latest.get(list_id)
        if current is None or _rank(record) > _rank(current):
            latest[list_id] = record
    return latest


def _rank(record: dict[str, Any]) -> tuple[bool, datetime.datetime]:
    return (not record.get("opt_out_date"), _record_date(record))


def _record_date(record: dict[str, Any]) -> datetime.datetime:
    moment = parse_vibes_datetime(record.get("opt_out_date") or record.get("opt_in_date"))
    return moment or datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _subscription_repairs(person: Person, remote: RemoteState, context: CrmContext) -> list[Repair]:
    records = _latest_by_list(remote.subscriptions or [])
    ours = {s.subscription_list.list_id: s for s in context.subscriptions.get(person.pk, [])}
    repairs = []
    for list_id in sorted(set(records) | set(ours)):
        subscription_list = context.lists.get(list_id)
        if subscription_list is None:
            repairs.append(
                Repair(
                    _("Vibes list %(id)s is not known to the CRM (vibes_catalog sync reads it)")
                    % {"id": list_id},
                    right=VIBES_IS_RIGHT,
                )
            )
            continue
        record = records.get(list_id)
        subscription = ours.get(list_id)
        state = subscription.state if subscription else SubscriptionState.UNSUBSCRIBED
        active = record is not None and not record.get("opt_out_date")
        request = context.open_requests.get((person.pk, subscription_list.pk))
        repair = list_repair(
            person, subscription_list, record, subscription, state, active, request
        )
        if repair is not None:
            repairs.append(repair)
    return repairs
