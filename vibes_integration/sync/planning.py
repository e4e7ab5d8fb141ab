"""The plan step: reads, just before sending, what each claimed operation must tell Vibes.

A ``person`` operation carries no data of its own: the person is read here, at send
time, which is what makes any number of coalesced edits one call with the latest state.
An opt-in or a leave that no longer holds (the request was withdrawn, the person joined
the list again) is skipped rather than sent: this matters when staff retry an old failed
operation after newer ones went through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from crm.choices import OptInStatus, SubscriptionState
from crm.models import ErasureRequest, OptInRequest, Person, Subscription
from prefcenter.conf import setting
from vibes_integration.sync.choices import OperationKind
from vibes_integration.sync.models import Operation
from vibes_integration.sync.payloads import (
    JSONDict,
    add_person_payload,
    synced_custom_fields,
    update_person_payload,
)


@dataclass(frozen=True)
class Plan:
    """Everything the calls of one operation need, read just before sending."""

    operation_id: int
    claim_token: str
    kind: str
    person_id: int
    external_person_id: str
    person_key: str | None = None
    external_id_in_vibes: bool = False
    vibes_person_id: str | None = None
    crm_mdn: str | None = None
    check_mdn: bool = False
    update_payload: JSONDict | None = None
    add_payload: JSONDict | None = None
    list_id: str = ""
    acquisition_id: str = ""
    opt_in_mdn: str = ""
    opt_in_request_id: int | None = None
    #: An opt-in of a change of number goes without the external id, which Vibes ties
    #: to the old number (docs/preferences.md).
    opt_in_without_external_id: bool = False
    #: A completed change of number: the Vibes person that held the old number, the one
    #: that holds the new number, and the lists to end on the old one.
    old_person_key: str = ""
    old_mdn: str = ""
    new_person_key: str = ""
    old_list_ids: tuple[str, ...] = ()
    skip_reason: str = ""
    erasure_targets: tuple[JSONDict, ...] = ()


@dataclass(frozen=True)
class _Rows:
    """What the plans of one batch read, in a few queries."""

    persons: dict[int, Person]
    definitions: dict
    field_map: dict
    requests: dict[int, OptInRequest]
    states: dict[tuple[int, int], str]
    erasures: dict[int, ErasureRequest]


def build_plans(operations: Sequence[Operation], claim_token: str) -> list[Plan]:
    """One plan per operation, reading every row it needs in a few queries."""
    rows = _read_rows(operations)
    plans = []
    for operation in operations:
        person = rows.persons.get(operation.person_id)
        if person is not None:
            plans.append(_plan(operation, person, rows, claim_token))
    return plans


def _read_rows(operations: Sequence[Operation]) -> _Rows:
    persons = Person.objects.in_bulk({op.person_id for op in operations})
    leaving = [op for op in operations if op.kind == OperationKind.UNSUBSCRIBE]
    return _Rows(
        persons=persons,
        definitions=synced_custom_fields(),
        field_map=setting("VIBES_SYNC_PERSON_FIELDS"),
        requests=OptInRequest.objects.select_related("subscription_list").in_bulk(
            {op.opt_in_request_id for op in operations if op.opt_in_request_id}
        ),
        states={
            (s.person_id, s.subscription_list_id): s.state
            for s in Subscription.objects.filter(
                person_id__in={op.person_id for op in leaving},
                subscription_list_id__in={op.subscription_list_id for op in leaving},
            ).only("person_id", "subscription_list_id", "state")
        },
        erasures={
            request.person_id: request
            for request in ErasureRequest.objects.filter(person_id__in=persons.keys())
        },
    )


def _plan(operation: Operation, person: Person, rows: _Rows, claim_token: str) -> Plan:
    base = {
        "operation_id": operation.pk,
        "claim_token": claim_token,
        "kind": operation.kind,
        "person_id": person.pk,
        "external_person_id": person.external_person_id,
        "person_key": person.person_key,
        "external_id_in_vibes": person.external_id_in_vibes,
        "vibes_person_id": person.vibes_person_id,
        "crm_mdn": str(person.mdn) if person.mdn else None,
    }
    erasure = rows.erasures.get(person.pk)
    fields = {"definitions": rows.definitions, "field_map": rows.field_map}
    if operation.kind == OperationKind.NULLIFY or erasure is not None:
        return _erasure_plan(base, operation, erasure)
    if operation.kind == OperationKind.PERSON:
        return Plan(
            **base,
            check_mdn=operation.check_mdn,
            update_payload=update_person_payload(person, **fields, remove_mdn=operation.remove_mdn),
            add_payload=add_person_payload(person, **fields),
        )
    if operation.kind == OperationKind.OPT_IN:
        return _opt_in_plan(base, rows.requests.get(operation.opt_in_request_id))
    if operation.kind == OperationKind.NUMBER_CHANGE:
        return number_change_plan(
            base,
            rows.requests.get(operation.opt_in_request_id),
            update_person_payload(person, **fields),
        )
    state = rows.states.get((operation.person_id, operation.subscription_list_id))
    skip = ""
    if state == SubscriptionState.SUBSCRIBED:
        # Joined again since (a confirmed opt-in, a keyword): Vibes has the newer
        # subscription, which this older leave must not remove. A pending opt-in
        # does not count: its Add Participant comes after this leave, in order.
        skip = _("The person joined the list again since; nothing to remove.")
    return Plan(**base, list_id=operation.subscription_list.list_id, skip_reason=skip)


def _opt_in_plan(base: dict, request: OptInRequest | None) -> Plan:
    if request is None:
        return Plan(**base, skip_reason=_("The opt-in request no longer exists."))
    if request.status != OptInStatus.REQUESTED:
        return Plan(
            **base,
            opt_in_request_id=request.pk,
            skip_reason=_("The opt-in request is already %(status)s; nothing to send.")
            % {"status": request.get_status_display().lower()},
        )
    return Plan(
        **base,
        opt_in_request_id=request.pk,
        list_id=request.subscription_list.list_id,
        acquisition_id=request.subscription_list.acquisition_campaign_id,
        opt_in_mdn=str(request.mdn),
        opt_in_without_external_id=request.number_change_id is not None,
    )


def _erasure_plan(base: dict, operation: Operation, erasure: ErasureRequest | None) -> Plan:
    """An erased person's nullification; any other operation of theirs is skipped (it
    would send an erased state, or address them by an id Vibes no longer has)."""
    if operation.kind != OperationKind.NULLIFY:
        return Plan(
            **base,
            skip_reason=_("The person was erased; the erasure's nullification ends every list."),
        )
    if erasure is None:
        return Plan(**base, skip_reason=_("No erasure request for this person."))
    if erasure.vibes_finished_at is not None:
        return Plan(**base, skip_reason=_("Vibes already finished this erasure."))
    return Plan(**base, erasure_targets=tuple(dict(target) for target in erasure.vibes_targets))


def number_change_plan(base: dict, request: OptInRequest | None, payload: JSONDict) -> Plan:
    change = request.number_change if request is not None else None
    if change is None:
        return Plan(**base, skip_reason=_("The change of number no longer exists."))
    return Plan(
        **base,
        opt_in_request_id=request.pk,
        old_person_key=change.old_person_key,
        old_mdn=str(change.old_mdn),
        new_person_key=change.new_person_key,
        old_list_ids=tuple(change.old_list_ids),
        update_payload=payload,
    )
