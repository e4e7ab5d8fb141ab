"""Subscriptions of a person, subscription lists, and acquisition campaigns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vibes_integration.sandbox.mdn import InvalidMdn, parse_api_mdn
from vibes_integration.sandbox.rendering import (
    render_campaign,
    render_list,
    render_person,
    render_subscription,
)
from vibes_integration.sandbox.wire import ApiRequest, ApiResponse, error

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox

API_OPT_OUT = "api_opt_out"


def _person_by(
    sandbox: Sandbox, person_key: str | None, external_person_id: str | None
) -> dict[str, Any] | None:
    if external_person_id is not None:
        return sandbox.person_by_external_id(external_person_id)
    return sandbox.person(person_key or "")


def list_subscriptions(
    sandbox: Sandbox,
    request: ApiRequest,
    *,
    person_key: str | None = None,
    external_person_id: str | None = None,
) -> ApiResponse:
    person = _person_by(sandbox, person_key, external_person_id)
    if person is None:
        return error(404, "The person cannot be located.")
    active_only = (request.param("active_only") or "").lower() == "true"
    records = sandbox.subscriptions_of(person["person_key"])
    if active_only:
        records = [record for record in records if not record.get("opt_out_date")]
    return ApiResponse(200, [render_subscription(sandbox, record) for record in records])


def get_subscription(
    sandbox: Sandbox,
    request: ApiRequest,
    *,
    list_id: str,
    person_key: str | None = None,
    external_person_id: str | None = None,
) -> ApiResponse:
    person = _person_by(sandbox, person_key, external_person_id)
    records = sandbox.subscriptions_of(person["person_key"], list_id) if person else []
    if not records:
        return error(
            404, "The person record cannot be located or is not subscribed to the specified list."
        )
    return ApiResponse(200, [render_subscription(sandbox, record) for record in records])


def unsubscribe(
    sandbox: Sandbox,
    request: ApiRequest,
    *,
    list_id: str,
    person_key: str | None = None,
    external_person_id: str | None = None,
) -> ApiResponse:
    person = _person_by(sandbox, person_key, external_person_id)
    record = sandbox.active_subscription(person["person_key"], list_id) if person else None
    if record is None:
        return error(404, "Either the person cannot be located or they are already not subscribed.")
    sandbox.unsubscribe(record, API_OPT_OUT)
    return ApiResponse(204)


def list_subscription_lists(sandbox: Sandbox, request: ApiRequest) -> ApiResponse:
    lists = sandbox.config["subscription_lists"]
    return ApiResponse(200, [render_list(sandbox, entry) for entry in lists])


def get_subscription_list(sandbox: Sandbox, request: ApiRequest, list_id: str) -> ApiResponse:
    entry = sandbox.subscription_list(list_id)
    if entry is None:
        return error(404, "The subscription_list_id cannot be found.")
    return ApiResponse(200, render_list(sandbox, entry))


def search_subscriber(sandbox: Sandbox, request: ApiRequest, list_id: str) -> ApiResponse:
    """Search for subscriber: the person (by ``mdn``, ``person_key`` or
    ``external_person_id``) when subscribed to the list now, else 404."""
    if sandbox.subscription_list(list_id) is None:
        return error(404, "The subscription list cannot be located.")
    person = None
    if request.param("mdn"):
        try:
            mdn = parse_api_mdn(
                request.param("mdn"),
                version=request.api_version,
                region=sandbox.config["default_region"],
            )
        except InvalidMdn as exc:
            return error(400, str(exc))
        person = sandbox.person_by_mdn(mdn)
    elif request.param("person_key"):
        person = sandbox.person(request.param("person_key"))
    elif request.param("external_person_id"):
        person = sandbox.person_by_external_id(request.param("external_person_id"))
    if person is None or sandbox.active_subscription(person["person_key"], list_id) is None:
        return error(
            404, "The subscriber cannot be located or is not subscribed to the specified list."
        )
    return ApiResponse(200, render_person(sandbox, person, version=request.api_version))


def list_campaigns_of_list(sandbox: Sandbox, request: ApiRequest, list_id: str) -> ApiResponse:
    entry = sandbox.subscription_list(list_id)
    if entry is None:
        return error(404, "The subscription_list_id cannot be found.")
    campaigns = [
        render_campaign(sandbox, campaign, entry) for campaign in entry["acquisition_campaigns"]
    ]
    return ApiResponse(200, campaigns)


def list_campaigns(sandbox: Sandbox, request: ApiRequest) -> ApiResponse:
    campaigns = [
        render_campaign(sandbox, campaign, entry)
        for entry in sandbox.config["subscription_lists"]
        for campaign in entry["acquisition_campaigns"]
    ]
    if not campaigns:
        return error(404, "No campaigns can be located.")
    return ApiResponse(200, campaigns)


def get_campaign(sandbox: Sandbox, request: ApiRequest, acquisition_id: str) -> ApiResponse:
    found = sandbox.campaign(acquisition_id)
    if found is None:
        return error(404, "The acquisition_id cannot be located.")
    campaign, entry = found
    return ApiResponse(200, render_campaign(sandbox, campaign, entry))
