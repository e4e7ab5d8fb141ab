"""Callback events: their bodies, as Vibes documents them, and which registration gets them.

Every body carries ``callback_id``, ``event_id``, ``callback_type``, ``event_type`` (the
deprecated twin), ``event_date`` and ``delivery_attempt`` (set per attempt by the delivery
queue), plus one object named for the kind of event: ``subscription``, ``person``,
``participant`` or ``subscription_list``.
"""

from __future__ import annotations

import copy
import uuid
from typing import TYPE_CHECKING, Any

from vibes_integration.sandbox import clock
from vibes_integration.sandbox.custom_fields import options_as_objects
from vibes_integration.sandbox.mdn import format_mdn
from vibes_integration.sandbox.rendering import render_list, subscription_document

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox

KNOWN_TYPES = (
    "ack_participant_added",
    "ack_participant_changed",
    "company_participant_added",
    "company_participant_changed",
    "event_processed",
    "person_added",
    "person_updated",
    "device_added",
    "device_removed",
    "device_updated",
    "subscription_added",
    "subscription_removed",
    "subscription_list_added",
    "subscription_list_updated",
    "unmatched_message_received",
    "wallet_item_install",
    "wallet_item_remove",
)

# The filter each type must carry, and the key inside it: Vibes sends subscription callbacks
# per list and acquisition callbacks per campaign, each through its own registration.
FILTERS = {
    "subscription_added": "list_id",
    "subscription_removed": "list_id",
    "ack_participant_added": "campaign_id",
    "ack_participant_changed": "campaign_id",
}

_DATE_KEYS = (
    "event_date",
    "opt_in_date",
    "opt_out_date",
    "created_at",
    "updated_at",
    "participation_date",
    "expire_date",
)


def filter_value(
    callback_type: str, *, list_id: str | None = None, campaign_id: str | None = None
) -> str | None:
    """The list or campaign that selects the registration of an event of ``callback_type``
    (None for the types registered once per company)."""
    key = FILTERS.get(callback_type)
    if key is None:
        return None
    value = list_id if key == "list_id" else campaign_id
    return str(value) if value not in (None, "") else None


def registration_for(
    sandbox: Sandbox, callback_type: str, selector: str | None = None
) -> dict[str, Any] | None:
    """The registration of ``callback_type`` (for a filtered type: of that list or campaign)."""
    key = FILTERS.get(callback_type)
    for registration in sandbox.store.all("callback"):
        if registration["callback_type"] != callback_type:
            continue
        if key is None or (registration.get("filter") or {}).get(key) == selector:
            return registration
    return None


def emit(
    sandbox: Sandbox,
    callback_type: str,
    payload: dict[str, Any],
    *,
    list_id: str | None = None,
    campaign_id: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Queue one event for the registration of ``callback_type`` (a subscription event: of
    its list; an acquisition event: of its campaign).

    Answers the body queued (without ``delivery_attempt``), or None when nobody listens.
    """
    selector = filter_value(callback_type, list_id=list_id, campaign_id=campaign_id)
    if callback_type in FILTERS and selector is None:
        return None
    registration = registration_for(sandbox, callback_type, selector)
    if registration is None:
        return None
    body: dict[str, Any] = {
        "callback_id": registration["callback_id"],
        "event_id": str(uuid.uuid4()),
        "callback_type": callback_type,
        "event_type": callback_type,
        "event_date": clock.iso(clock.now()),
    }
    body.update(payload)
    body = _respelled(sandbox, registration, copy.deepcopy(body))
    body.update(overrides or {})
    sandbox.delivery.enqueue(registration, body)
    return body


def _respelled(sandbox: Sandbox, registration: dict[str, Any], payload: Any) -> Any:
    """Apply the registration's MDN format and the date/id spelling knobs to a body."""
    mdn_format = sandbox.faults["mdn_format"] or (
        "e164" if registration.get("api_version", 2) >= 2 else "national"
    )
    date_format = sandbox.faults["date_format"]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            result = {}
            for key, value in node.items():
                if key == "mdn" and isinstance(value, str):
                    value = format_mdn(value, version=2 if mdn_format == "e164" else 1)
                elif key in _DATE_KEYS and isinstance(value, str):
                    value = clock.respell(value, date_format, sandbox.rng)
                else:
                    value = walk(value)
                result[key] = value
            return result
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(payload)


def person_reference(sandbox: Sandbox, person: dict[str, Any] | None) -> dict[str, Any]:
    """The short person object of subscription and participant callbacks.

    ``id`` is always the deprecated numeric ``person_id``, never the ``person_key``. The
    contract's ``callback_person`` picks the rest: ``current`` (Vibes' current reference)
    adds ``person_key``, the external id twice (``external_id``, ``external_person_id``) and
    ``mobile_phone``; ``legacy`` (the older example) has ``external_id`` only. Both keep the
    person's resource ``url``.
    """
    if person is None:
        return {}
    url = sandbox.url(f"/mobiledb/persons/{person['person_key']}")
    external_id = person.get("external_person_id")
    if sandbox.contract["callback_person"] == "legacy":
        return {"id": str(person["person_id"]), "external_id": external_id, "url": url}
    reference: dict[str, Any] = {
        "id": str(person["person_id"]),
        "person_key": person["person_key"],
        "external_id": external_id,
        "external_person_id": external_id,
    }
    if person.get("mdn"):
        reference["mobile_phone"] = {"mdn": person["mdn"]}
    reference["url"] = url
    return reference


def person_body(sandbox: Sandbox, person: dict[str, Any]) -> dict[str, Any]:
    """The complete state of a person, as person_added and person_updated carry it."""
    definitions = sandbox.custom_field_definitions()
    custom_fields: dict[str, Any] = {}
    for key, value in person.get("custom_fields", {}).items():
        definition = definitions.get(key)
        if definition and definition.get("type") == "multiple_choice":
            value = options_as_objects(value, definition)
        custom_fields[key] = value
    mobile_phone = (
        {"mdn": person["mdn"], "carrier_code": person.get("carrier_code")}
        if person.get("mdn")
        else None
    )
    return {
        "person_key": person["person_key"],
        "person_id": str(person["person_id"]),
        "external_person_id": person.get("external_person_id"),
        "mobile_phone": mobile_phone,
        "custom_fields": custom_fields,
        "timezone": sandbox.config["timezone"],
        "created_at": person["created_at"],
        "updated_at": person["updated_at"],
        "url": sandbox.url(f"/mobiledb/persons/{person['person_key']}"),
    }


def emit_person(sandbox: Sandbox, callback_type: str, person: dict[str, Any]) -> None:
    emit(sandbox, callback_type, {"person": person_body(sandbox, person)})


def subscription_body(sandbox: Sandbox, record: dict[str, Any]) -> dict[str, Any]:
    person = sandbox.person(record["person_key"])
    extra: dict[str, Any] = {}
    if record.get("acquisition_campaign_id"):
        campaign_id = record["acquisition_campaign_id"]
        extra["acquisition_campaign"] = {
            "id": campaign_id,
            "url": sandbox.url(f"/campaigns/acquisition/{campaign_id}"),
        }
    return subscription_document(sandbox, record, person_reference(sandbox, person), extra)


def emit_subscription(sandbox: Sandbox, callback_type: str, record: dict[str, Any]) -> None:
    emit(
        sandbox,
        callback_type,
        {"subscription": subscription_body(sandbox, record)},
        list_id=record["list_id"],
    )


def participant_body(sandbox: Sandbox, participant: dict[str, Any]) -> dict[str, Any]:
    found = sandbox.campaign(participant["acquisition_id"])
    campaign, subscription_list = found if found else ({}, {"id": participant["list_id"]})
    return {
        "person": person_reference(sandbox, sandbox.person(participant["person_key"])),
        "mobile_phone": {"mdn": participant["mdn"]},
        "acquisition_campaign": {
            "id": participant["acquisition_id"],
            "description": campaign.get("description", ""),
            "keyword": campaign.get("keyword") or subscription_list.get("keyword") or "",
            "url": sandbox.url(f"/campaigns/acquisition/{participant['acquisition_id']}"),
        },
        "subscription_list": {
            "id": participant["list_id"],
            "url": sandbox.url(f"/mobiledb/subscription_lists/{participant['list_id']}"),
        },
        "participation_date": participant["participation_date"],
        "expire_date": participant["expire_date"],
        "status": participant["status"],
    }


def emit_participant(sandbox: Sandbox, callback_type: str, participant: dict[str, Any]) -> None:
    emit(
        sandbox,
        callback_type,
        {"participant": participant_body(sandbox, participant)},
        campaign_id=participant["acquisition_id"],
    )


def list_body(sandbox: Sandbox, subscription_list: dict[str, Any]) -> dict[str, Any]:
    return render_list(sandbox, subscription_list)
