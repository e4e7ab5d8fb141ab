"""The JSON the sandbox's Vibes API answers with, in the shapes of Vibes' OpenAPI document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vibes_integration.sandbox.mdn import format_mdn

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox


def render_person(sandbox: Sandbox, person: dict[str, Any], *, version: int) -> dict[str, Any]:
    """A person as the API answers it. Vibes' document types ``external_person_id`` and
    ``mobile_phone`` as a string and an object, never null, so a person without an
    external id (one who joined by keyword) or without a number answers without that field."""
    body: dict[str, Any] = {"person_key": person["person_key"]}
    if person.get("external_person_id"):
        body["external_person_id"] = person["external_person_id"]
    if person.get("mdn"):
        body["mobile_phone"] = {
            "mdn": format_mdn(person["mdn"], version=version),
            "carrier_code": person.get("carrier_code"),
        }
    body.update(
        custom_fields=dict(person.get("custom_fields", {})),
        created_at=person["created_at"],
        updated_at=person["updated_at"],
        url=sandbox.url(f"/mobiledb/persons/{person['person_key']}"),
    )
    return body


def render_subscription(sandbox: Sandbox, record: dict[str, Any]) -> dict[str, Any]:
    """A subscription record as the API answers it: the person by ``id`` (the numeric
    ``person_id``, never the key) and its resource ``url``; ``opt_out_date`` and
    ``opt_out_reason`` only once the subscription has ended (the document allows no null)."""
    person = sandbox.person(record["person_key"]) or {}
    reference = {
        "id": str(person.get("person_id", "")),
        "url": sandbox.url(f"/mobiledb/persons/{record['person_key']}"),
    }
    return subscription_document(sandbox, record, reference)


def subscription_document(
    sandbox: Sandbox,
    record: dict[str, Any],
    person: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A subscription as Vibes writes it, in the API's answers and in callbacks alike; they
    differ in how they name the ``person`` and in the ``extra`` keys a callback adds."""
    body: dict[str, Any] = {
        "person": person,
        "subscription_list": {
            "id": record["list_id"],
            "url": sandbox.url(f"/mobiledb/subscription_lists/{record['list_id']}"),
        },
        "opt_in_date": record["opt_in_date"],
    }
    if record.get("opt_out_date"):
        body["opt_out_date"] = record["opt_out_date"]
        body["opt_out_reason"] = record["opt_out_reason"]
    body.update(extra or {})
    body["url"] = sandbox.url(
        f"/mobiledb/persons/{record['person_key']}/subscriptions/{record['list_id']}"
    )
    return body


def render_list(sandbox: Sandbox, subscription_list: dict[str, Any]) -> dict[str, Any]:
    base = f"/mobiledb/subscription_lists/{subscription_list['id']}"
    return {
        "id": subscription_list["id"],
        "name": subscription_list["name"],
        "url": sandbox.url(base),
        "subscribers_url": sandbox.url(f"{base}/subscribers"),
        "acquisition_campaigns_url": sandbox.url(f"{base}/acquisition_campaigns"),
    }


def render_campaign(
    sandbox: Sandbox, campaign: dict[str, Any], subscription_list: dict[str, Any]
) -> dict[str, Any]:
    keyword = campaign.get("keyword") or subscription_list.get("keyword")
    body = {
        "acquisition_id": campaign["id"],
        "description": campaign.get("description", ""),
        "campaign_type": {"code": "acquisition"},
        "status": campaign.get("status", "active"),
        "start_date": campaign.get("start_date", sandbox.seeded_at),
        "end_date": campaign.get("end_date"),
        "created_date": sandbox.seeded_at,
        "updated_date": sandbox.seeded_at,
        "acquisition_campaign": {"keywords": [keyword] if keyword else []},
        "url": sandbox.url(f"/campaigns/acquisition/{campaign['id']}"),
    }
    return _without_nulls(body)


def _without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without the fields that have no value: Vibes' document types them as
    strings, so an unset date is left out rather than sent as null."""
    return {key: value for key, value in body.items() if value is not None}


def render_participant_person(sandbox: Sandbox, person: dict[str, Any]) -> dict[str, Any]:
    return {
        "person_id": str(person["person_id"]),
        "person_key": person["person_key"],
        "url": sandbox.url(f"/mobiledb/persons/{person['person_key']}"),
    }


def render_participant(sandbox: Sandbox, participant: dict[str, Any]) -> dict[str, Any]:
    person = sandbox.person(participant["person_key"]) or {}
    return {
        "person": render_participant_person(sandbox, person) if person else {},
        "participation_date": participant["participation_date"],
        "expire_date": participant["expire_date"],
        "status": participant["status"],
    }


def render_callback(registration: dict[str, Any], url: str) -> dict[str, Any]:
    body = {
        "callback_id": registration["callback_id"],
        "callback_type": registration["callback_type"],
        "destination": dict(registration["destination"]),
        "start_date": registration.get("start_date"),
        "end_date": registration.get("end_date"),
        "url": url,
        "created_date": registration["created_date"],
        "updated_date": registration["updated_date"],
    }
    if registration.get("filter"):
        body[registration["callback_type"]] = dict(registration["filter"])
    return _without_nulls(body)
