"""Events on demand, for tests: any callback type, built from the sandbox's records or
given whole, with the event_id and event_date a test needs (to replay a duplicate, or to
send an old event after a newer one). Triggering does not change the sandbox's records.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from vibes_integration.sandbox import clock
from vibes_integration.sandbox.config import load_config
from vibes_integration.sandbox.control_input import control_mdn
from vibes_integration.sandbox.events import (
    FILTERS,
    KNOWN_TYPES,
    emit,
    filter_value,
    list_body,
    participant_body,
    person_body,
    subscription_body,
)

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox


class TriggerError(ValueError):
    pass


_OBJECT_KEYS = {
    "subscription_added": "subscription",
    "subscription_removed": "subscription",
    "person_added": "person",
    "person_updated": "person",
    "ack_participant_added": "participant",
    "ack_participant_changed": "participant",
    "company_participant_added": "participant",
    "company_participant_changed": "participant",
    "subscription_list_added": "subscription_list",
    "subscription_list_updated": "subscription_list",
}


def _person(sandbox: Sandbox, payload: dict[str, Any]) -> dict[str, Any]:
    person = None
    if payload.get("person_key"):
        person = sandbox.person(payload["person_key"])
    elif payload.get("external_person_id"):
        person = sandbox.person_by_external_id(payload["external_person_id"])
    elif payload.get("mdn"):
        person = sandbox.person_by_mdn(control_mdn(sandbox, payload["mdn"]))
    else:
        raise TriggerError("name the person: person_key, external_person_id or mdn")
    if person is None:
        raise TriggerError("no such person in the sandbox")
    return person


def trigger(sandbox: Sandbox, callback_type: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Queue one event; answers its body (without ``delivery_attempt``)."""
    if callback_type not in KNOWN_TYPES:
        raise TriggerError(f"callback_type must be one of {list(KNOWN_TYPES)}")
    if not any(r["callback_type"] == callback_type for r in sandbox.store.all("callback")):
        raise TriggerError(f"no {callback_type} callback is registered")
    payload = copy.deepcopy(payload)
    overrides = {key: payload.pop(key) for key in ("event_id", "event_date") if key in payload}
    object_key = _OBJECT_KEYS.get(callback_type)
    list_id = payload.get("list_id")
    campaign_id = payload.get("campaign_id")
    if object_key is None or object_key in payload:
        body = {
            key: value for key, value in payload.items() if key not in ("list_id", "campaign_id")
        }
        given = body.get(object_key) or {}
        if object_key == "subscription" and isinstance(given, dict) and not list_id:
            list_id = (given.get("subscription_list") or {}).get("id")
        if object_key == "participant" and isinstance(given, dict) and not campaign_id:
            campaign_id = (given.get("acquisition_campaign") or {}).get("id")
    elif object_key == "subscription":
        body = {"subscription": _subscription(sandbox, callback_type, payload)}
        list_id = body["subscription"]["subscription_list"]["id"]
    elif object_key == "person":
        body = {"person": person_body(sandbox, _person(sandbox, payload))}
    elif object_key == "participant":
        body = {"participant": _participant(sandbox, callback_type, payload)}
        campaign_id = body["participant"]["acquisition_campaign"]["id"]
    else:
        entry = sandbox.subscription_list(str(list_id or ""))
        if entry is None:
            raise TriggerError("list_id must name a list of the sandbox")
        body = {"subscription_list": list_body(sandbox, entry)}
    queued = emit(
        sandbox,
        callback_type,
        body,
        list_id=str(list_id) if list_id else None,
        campaign_id=str(campaign_id) if campaign_id else None,
        overrides=overrides,
    )
    if queued is None:
        selector = filter_value(
            callback_type,
            list_id=str(list_id) if list_id else None,
            campaign_id=str(campaign_id) if campaign_id else None,
        )
        scope = FILTERS.get(callback_type)
        raise TriggerError(
            f"no {callback_type} callback is registered for {scope} {selector}"
            if selector
            else f"a {callback_type} event needs its {scope} (give {scope})"
        )
    return queued


def _subscription(sandbox: Sandbox, callback_type: str, payload: dict[str, Any]) -> dict:
    person = _person(sandbox, payload)
    list_id = str(payload.get("list_id") or "")
    if sandbox.subscription_list(list_id) is None:
        raise TriggerError("list_id must name a list of the sandbox")
    now = clock.iso(clock.now())
    record = {
        "person_key": person["person_key"],
        "list_id": list_id,
        "acquisition_campaign_id": payload.get("campaign_id"),
        "opt_in_date": payload.get("opt_in_date", now),
        "opt_out_date": None,
        "opt_out_reason": None,
    }
    if callback_type == "subscription_removed":
        record["opt_out_date"] = payload.get("opt_out_date", now)
        record["opt_out_reason"] = payload.get("opt_out_reason", "user_opt_out")
    return subscription_body(sandbox, record)


def _participant(sandbox: Sandbox, callback_type: str, payload: dict[str, Any]) -> dict:
    person = _person(sandbox, payload)
    campaign_id = str(payload.get("campaign_id") or "")
    found = sandbox.campaign(campaign_id)
    if found is None:
        raise TriggerError("campaign_id must name an acquisition campaign of the sandbox")
    default_status = "PENDING" if callback_type.endswith("_added") else "CONFIRMED"
    participant = {
        "acquisition_id": campaign_id,
        "list_id": found[1]["id"],
        "person_key": person["person_key"],
        "mdn": person.get("mdn"),
        "participation_date": payload.get("participation_date", clock.iso(clock.now())),
        "expire_date": payload.get("expire_date", clock.later(86400)),
        "status": payload.get("status", default_status),
    }
    return participant_body(sandbox, participant)


def upsert_list(sandbox: Sandbox, entry: dict[str, Any]) -> dict[str, Any]:
    """Add or change one subscription list; announces ``subscription_list_added``/``_updated``."""
    if not isinstance(entry, dict) or not entry.get("id") or not entry.get("name"):
        raise TriggerError("a list needs id and name")
    entry = dict(entry, id=str(entry["id"]))
    lists = [item for item in sandbox.config["subscription_lists"] if item["id"] != entry["id"]]
    existed = len(lists) != len(sandbox.config["subscription_lists"])
    config = dict(sandbox.config, subscription_lists=[*lists, entry])
    sandbox.config = load_config(config)
    stored = sandbox.subscription_list(entry["id"])
    callback_type = "subscription_list_updated" if existed else "subscription_list_added"
    emit(sandbox, callback_type, {"subscription_list": list_body(sandbox, stored)})
    return stored
