"""Callback registrations (``/config/callbacks/``) and test events.

As Vibes documents them: ``subscription_added``/``_removed`` require a ``list_id`` filter
and ``ack_participant_added``/``_changed`` a ``campaign_id`` filter (400 without it, 422
for a list or campaign Vibes does not have), one registration per type and list or
campaign; every other type (person callbacks included) once per company. A second
registration for the same type and filter is a 409. A test event goes to the registration
of its type (and list or campaign) like any other event.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from vibes_integration.sandbox import clock
from vibes_integration.sandbox.events import (
    FILTERS,
    KNOWN_TYPES,
    emit,
    person_reference,
    registration_for,
)
from vibes_integration.sandbox.rendering import render_callback
from vibes_integration.sandbox.wire import ApiError, ApiRequest, ApiResponse, error

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox

METHODS = ("POST", "PUT")
CONTENT_TYPES = ("application/json", "text/json")
# Vibes allows "up to 50 destination URLs" per company (registrations per list can be many).
MAX_DESTINATIONS = 50


def _url(sandbox: Sandbox, registration: dict[str, Any]) -> str:
    return sandbox.url(f"/config/callbacks/{registration['callback_id']}")


def _clean(sandbox: Sandbox, request: ApiRequest) -> dict[str, Any]:
    body = request.body
    if not isinstance(body, dict):
        raise ApiError(error(400, "The request body must be a JSON object."))
    callback_type = body.get("callback_type")
    if callback_type not in KNOWN_TYPES:
        raise ApiError(error(400, f"Unknown callback_type: {callback_type!r}."))
    destination = body.get("destination")
    if not isinstance(destination, dict) or not isinstance(destination.get("url"), str):
        raise ApiError(error(400, "destination.url is required."))
    parts = urlsplit(destination["url"])
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiError(error(400, "destination.url must be an http or https URL."))
    method = str(destination.get("method") or "POST").upper()
    if method not in METHODS:
        raise ApiError(error(400, "destination.method must be POST or PUT."))
    content_type = str(destination.get("content_type") or "application/json").lower()
    if content_type not in CONTENT_TYPES:
        raise ApiError(
            error(400, "destination.content_type must be application/json or text/json.")
        )
    cleaned: dict[str, Any] = {
        "callback_type": callback_type,
        "destination": {"url": destination["url"], "method": method, "content_type": content_type},
        "filter": None,
        "start_date": body.get("start_date"),
        "end_date": body.get("end_date"),
    }
    filter_key = FILTERS.get(callback_type)
    if filter_key:
        wanted = body.get(callback_type)
        value = wanted.get(filter_key) if isinstance(wanted, dict) else None
        if value in (None, "") or isinstance(value, dict | list | bool):
            scope = "list" if filter_key == "list_id" else "acquisition campaign"
            raise ApiError(
                error(
                    400,
                    f"{callback_type}.{filter_key} is required: {callback_type} callbacks are "
                    f"registered for one {scope} each.",
                )
            )
        value = str(value)
        if filter_key == "list_id" and sandbox.subscription_list(value) is None:
            raise ApiError(error(422, f"Unknown subscription list: {value}."))
        if filter_key == "campaign_id" and sandbox.campaign(value) is None:
            raise ApiError(error(422, f"Unknown acquisition campaign: {value}."))
        cleaned["filter"] = {filter_key: value}
    return cleaned


def _selector(cleaned: dict[str, Any]) -> str | None:
    return next(iter((cleaned.get("filter") or {}).values()), None)


def _taken(cleaned: dict[str, Any]) -> ApiResponse:
    selector = _selector(cleaned)
    scope = f" for {next(iter(cleaned['filter']))} {selector}" if selector else ""
    return error(
        409, f"A {cleaned['callback_type']} callback is already registered{scope} for this company."
    )


def register(sandbox: Sandbox, request: ApiRequest) -> ApiResponse:
    cleaned = _clean(sandbox, request)
    if registration_for(sandbox, cleaned["callback_type"], _selector(cleaned)) is not None:
        return _taken(cleaned)
    urls = {r["destination"]["url"] for r in sandbox.store.all("callback")}
    if cleaned["destination"]["url"] not in urls and len(urls) >= MAX_DESTINATIONS:
        return error(422, f"At most {MAX_DESTINATIONS} destination URLs can be registered.")
    stamp = clock.iso(clock.now())
    callback_id = str(sandbox.store.next_id("callback"))
    registration = dict(
        cleaned,
        callback_id=callback_id,
        api_version=request.api_version,
        created_date=stamp,
        updated_date=stamp,
    )
    sandbox.store.put("callback", callback_id, registration)
    return ApiResponse(201, render_callback(registration, _url(sandbox, registration)))


def list_registrations(sandbox: Sandbox, request: ApiRequest) -> ApiResponse:
    registrations = sorted(sandbox.store.all("callback"), key=lambda item: int(item["callback_id"]))
    return ApiResponse(200, [render_callback(item, _url(sandbox, item)) for item in registrations])


def get_registration(sandbox: Sandbox, request: ApiRequest, callback_id: str) -> ApiResponse:
    registration = sandbox.store.get("callback", callback_id)
    if registration is None:
        return error(404, "The callback_id is not recognized.")
    return ApiResponse(200, render_callback(registration, _url(sandbox, registration)))


def update_registration(sandbox: Sandbox, request: ApiRequest, callback_id: str) -> ApiResponse:
    registration = sandbox.store.get("callback", callback_id)
    if registration is None:
        return error(404, "The callback_id is not recognized.")
    cleaned = _clean(sandbox, request)
    other = registration_for(sandbox, cleaned["callback_type"], _selector(cleaned))
    if other is not None and other["callback_id"] != callback_id:
        return _taken(cleaned)
    updated = dict(
        registration,
        **cleaned,
        api_version=request.api_version,
        updated_date=clock.iso(clock.now()),
    )
    sandbox.store.put("callback", callback_id, updated)
    return ApiResponse(200, render_callback(updated, _url(sandbox, updated)))


def delete_registration(sandbox: Sandbox, request: ApiRequest, callback_id: str) -> ApiResponse:
    registration = sandbox.store.get("callback", callback_id)
    if registration is None:
        return error(404, "The callback_id cannot be found.")
    sandbox.store.delete("callback", callback_id)
    return ApiResponse(200, render_callback(registration, _url(sandbox, registration)))


def test_event(sandbox: Sandbox, request: ApiRequest) -> ApiResponse:
    body = request.body
    if not isinstance(body, dict) or body.get("callback_type") not in KNOWN_TYPES:
        return error(400, "callback_type is required and must be a known callback type.")
    callback_type = body["callback_type"]
    filter_key = FILTERS.get(callback_type)
    selector = None
    if filter_key == "list_id":
        selector = (body.get(callback_type) or {}).get("list_id") or (
            (body.get("subscription") or {}).get("subscription_list") or {}
        ).get("id")
    elif filter_key == "campaign_id":
        selector = (body.get("acquisition_campaign_changed") or {}).get("campaign_id") or (
            (body.get("participant") or {}).get("acquisition_campaign") or {}
        ).get("api_key")
    if filter_key and not selector:
        where = callback_type if filter_key == "list_id" else "acquisition_campaign_changed"
        return error(400, f"{where}.{filter_key} is required to test {callback_type}.")
    selector = str(selector) if selector else None
    if registration_for(sandbox, callback_type, selector) is None:
        return error(404, "An active callback does not exist.")
    payload = sample_payload(sandbox, callback_type, body, selector)
    queued = emit(sandbox, callback_type, payload, list_id=selector, campaign_id=selector)
    return ApiResponse(
        201,
        {"message": f"Test {callback_type} callback queued.", "event_id": queued["event_id"]},
    )


_TEST_PERSON_ID = 1000000


def _test_person(sandbox: Sandbox, given: dict[str, Any]) -> dict[str, Any]:
    """A person that exists only in a test event; its person_id and key differ, like Vibes'."""
    mobile = given.get("mobile") or given.get("mobile_phone") or {}
    return {
        "person_key": "test-person",
        "person_id": given.get("person_id") or given.get("id") or _TEST_PERSON_ID,
        "external_person_id": given.get("external_person_id"),
        "mdn": mobile.get("mdn"),
        "carrier_code": mobile.get("carrier_code"),
    }


def sample_payload(
    sandbox: Sandbox, callback_type: str, body: dict[str, Any], selector: str | None = None
) -> dict[str, Any]:
    """A plausible body for a test event, completed with what the request supplied."""
    stamp = clock.iso(clock.now())
    if callback_type in ("person_added", "person_updated"):
        return _sample_person(sandbox, body, stamp)
    if callback_type in ("subscription_added", "subscription_removed"):
        return _sample_subscription(sandbox, callback_type, body, selector, stamp)
    if callback_type.startswith(("ack_participant", "company_participant")):
        return _sample_participant(sandbox, callback_type, body, selector, stamp)
    if callback_type.startswith("subscription_list"):
        first_list = _first_list(sandbox)
        given = body.get("subscription_list") or {}
        return {
            "subscription_list": {
                "id": str(given.get("id", first_list["id"])),
                "name": given.get("name", first_list["name"]),
            }
        }
    return {"test": True}


def _first_list(sandbox: Sandbox) -> dict[str, Any]:
    return (sandbox.config["subscription_lists"] or [{"id": "1", "name": "Test"}])[0]


def _sample_person(sandbox: Sandbox, body: dict[str, Any], stamp: str) -> dict[str, Any]:
    person = _test_person(sandbox, body.get("person") or {})
    return {
        "person": {
            "person_key": person["person_key"],
            "person_id": str(person["person_id"]),
            "external_person_id": person["external_person_id"],
            "mobile_phone": {"mdn": person["mdn"], "carrier_code": person["carrier_code"]},
            "custom_fields": (body.get("person") or {}).get("custom_fields") or {},
            "timezone": sandbox.config["timezone"],
            "created_at": stamp,
            "updated_at": stamp,
            "url": sandbox.url(f"/mobiledb/persons/{person['person_key']}"),
        }
    }


def _sample_subscription(
    sandbox: Sandbox,
    callback_type: str,
    body: dict[str, Any],
    selector: str | None,
    stamp: str,
) -> dict[str, Any]:
    given = copy.deepcopy(body.get("subscription") or {})
    list_id = selector or _first_list(sandbox)["id"]
    person = _test_person(sandbox, given.get("person") or {})
    subscription = {
        "person": person_reference(sandbox, person),
        "subscription_list": {
            "id": str(list_id),
            "url": sandbox.url(f"/mobiledb/subscription_lists/{list_id}"),
        },
        "opt_in_date": stamp,
        "url": sandbox.url(f"/mobiledb/persons/test-person/subscriptions/{list_id}"),
    }
    if callback_type == "subscription_removed":
        subscription.update(opt_out_date=stamp, opt_out_reason="user_opt_out")
    return {"subscription": subscription}


def _sample_participant(
    sandbox: Sandbox,
    callback_type: str,
    body: dict[str, Any],
    selector: str | None,
    stamp: str,
) -> dict[str, Any]:
    given = body.get("participant") or {}
    campaign = given.get("acquisition_campaign") or {}
    campaign_id = selector or campaign.get("api_key")
    person = _test_person(sandbox, given)
    return {
        "participant": {
            "person": person_reference(sandbox, person),
            "mobile_phone": given.get("mobile_phone") or {"mdn": None},
            "acquisition_campaign": {
                "id": campaign_id,
                "description": campaign.get("description"),
                "keyword": campaign.get("keyword"),
                "url": sandbox.url(f"/campaigns/acquisition/{campaign_id}"),
            },
            "participation_date": stamp,
            "expire_date": stamp,
            "status": "PENDING" if callback_type.endswith("added") else "CONFIRMED",
        }
    }
