"""``POST /_sandbox/import``: records that existed before anyone listened.

``make run`` loads its demo into the CRM and, in the same step, gives the sandbox the very
same persons, subscriptions and web opt-ins, so that both sides start as one world: a
brand whose subscribers joined long ago. Imported records keep the keys and dates they
are given and announce nothing (no callback is sent: they are the past, not events).
Importing is idempotent: a person whose key is already held is left as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vibes_integration.sandbox import clock
from vibes_integration.sandbox.custom_fields import CustomFieldErrors, clean_custom_fields
from vibes_integration.sandbox.mdn import InvalidMdn, parse_api_mdn

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox

PARTICIPANT_STATUSES = {"PENDING", "CONFIRMED", "REJECTED", "EXPIRED"}


class SeedError(ValueError):
    """An imported entry cannot be used; the message names it. Nothing was imported."""


def import_records(sandbox: Sandbox, body: Any) -> dict[str, int]:
    """Check every entry first, then store them all (the caller holds the lock)."""
    if not isinstance(body, dict) or not isinstance(body.get("persons"), list):
        raise SeedError('expected {"persons": [...]}')
    persons = [
        _checked_person(sandbox, index, entry) for index, entry in enumerate(body["persons"])
    ]
    counts = {"persons": 0, "existing": 0, "subscriptions": 0, "participants": 0}
    for person, subscriptions, participants in persons:
        if sandbox.person(person["person_key"]) is not None:
            counts["existing"] += 1
            continue
        person["person_id"] = sandbox.store.next_id("person_id")
        sandbox.save_person(person)
        counts["persons"] += 1
        for record in subscriptions:
            seq = sandbox.store.next_id("subscription")
            record.update(id=f"S{seq}", seq=seq, person_key=person["person_key"])
            sandbox.store.put("subscription", record["id"], record)
            sandbox._index_subscription(record)
            counts["subscriptions"] += 1
        for participant in participants:
            seq = sandbox.store.next_id("participant")
            participant.update(id=f"P{seq}", seq=seq, person_key=person["person_key"])
            sandbox.add_participant_record(participant)
            counts["participants"] += 1
    return counts


def _checked_person(
    sandbox: Sandbox, index: int, entry: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    where = f"persons[{index}]"
    if not isinstance(entry, dict) or not entry.get("person_key"):
        raise SeedError(f"{where}: person_key is required")
    mdn = _mdn(sandbox, entry.get("mdn"), where)
    external = entry.get("external_person_id") or None
    held = sandbox.person_by_mdn(mdn) if mdn else None
    if held is not None and held["person_key"] != str(entry["person_key"]):
        raise SeedError(f"{where}: number {mdn} belongs to another person")
    try:
        fields = clean_custom_fields(entry.get("custom_fields"), sandbox.custom_field_definitions())
    except CustomFieldErrors as exc:
        raise SeedError(f"{where}: {exc}") from exc
    stamp = str(entry.get("created_at") or clock.iso(clock.now()))
    person = {
        "person_key": str(entry["person_key"]),
        "external_person_id": external,
        "mdn": mdn,
        "carrier_code": sandbox.config["carrier_code"] if mdn else None,
        "custom_fields": {key: value for key, value in fields.items() if value is not None},
        "created_at": stamp,
        "updated_at": stamp,
    }
    subscriptions = [
        _subscription(sandbox, f"{where}.subscriptions[{i}]", item)
        for i, item in enumerate(entry.get("subscriptions") or [])
    ]
    participants = [
        _participant(sandbox, f"{where}.participants[{i}]", item, mdn)
        for i, item in enumerate(entry.get("participants") or [])
    ]
    return person, subscriptions, participants


def _mdn(sandbox: Sandbox, raw: Any, where: str) -> str | None:
    if not raw:
        return None
    try:
        return parse_api_mdn(raw, version=2, region=sandbox.config["default_region"])
    except InvalidMdn as exc:
        raise SeedError(f"{where}: {exc}") from exc


def _list(sandbox: Sandbox, where: str, list_id: Any) -> dict[str, Any]:
    subscription_list = sandbox.subscription_list(str(list_id or ""))
    if subscription_list is None:
        raise SeedError(f"{where}: no subscription list {list_id!r}")
    return subscription_list


def _subscription(sandbox: Sandbox, where: str, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not item.get("opt_in_date"):
        raise SeedError(f"{where}: list_id and opt_in_date are required")
    subscription_list = _list(sandbox, where, item.get("list_id"))
    campaigns = subscription_list["acquisition_campaigns"]
    return {
        "list_id": subscription_list["id"],
        "acquisition_campaign_id": item.get("acquisition_campaign_id")
        or (campaigns[0]["id"] if campaigns else None),
        "opt_in_date": str(item["opt_in_date"]),
        "opt_out_date": item.get("opt_out_date") or None,
        "opt_out_reason": item.get("opt_out_reason") or None,
    }


def _participant(sandbox: Sandbox, where: str, item: Any, mdn: str | None) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("status") not in PARTICIPANT_STATUSES:
        raise SeedError(f"{where}: status must be one of {sorted(PARTICIPANT_STATUSES)}")
    subscription_list = _list(sandbox, where, item.get("list_id"))
    campaigns = subscription_list["acquisition_campaigns"]
    if not campaigns:
        raise SeedError(f"{where}: list {subscription_list['id']} has no campaign")
    number = _mdn(sandbox, item.get("mdn"), where) or mdn
    if not number:
        raise SeedError(f"{where}: a web opt-in needs a number")
    return {
        "acquisition_id": campaigns[0]["id"],
        "list_id": subscription_list["id"],
        "mdn": number,
        "participation_date": str(item.get("participation_date") or clock.iso(clock.now())),
        "expire_date": str(
            item.get("expire_date") or clock.later(float(sandbox.config["pending_ttl_seconds"]))
        ),
        "status": item["status"],
    }
