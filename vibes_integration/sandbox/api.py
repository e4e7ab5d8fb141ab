"""The sandbox's Vibes API: which path and method reach which handler, and the checks
every call goes through first (company, credentials, rate limit, forced faults, JSON body).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from vibes_integration.sandbox import api_callbacks, api_persons, api_subscriptions, opt_in
from vibes_integration.sandbox.wire import ApiError, ApiRequest, ApiResponse, error

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox
    from vibes_integration.sandbox.ratelimit import SlidingWindowLimiter

Handler = Callable[..., ApiResponse]

_P = r"(?P<{}>[^/]+)"


def _route(method: str, pattern: str, handler: Handler, **fixed: str):
    regex = re.compile(
        "^"
        + pattern.replace("{person_key}", _P.format("person_key"))
        .replace("{external_person_id}", _P.format("external_person_id"))
        .replace("{list_id}", _P.format("list_id"))
        .replace("{acquisition_id}", _P.format("acquisition_id"))
        .replace("{callback_id}", _P.format("callback_id"))
        + "$"
    )
    return method, regex, handler, fixed


ROUTES = [
    _route("GET", "/mobiledb/persons", api_persons.find_person),
    _route("POST", "/mobiledb/persons/?", api_persons.add_person),
    _route(
        "GET",
        "/mobiledb/persons/external/{external_person_id}/subscriptions/?",
        api_subscriptions.list_subscriptions,
    ),
    _route(
        "GET",
        "/mobiledb/persons/external/{external_person_id}/subscriptions/{list_id}",
        api_subscriptions.get_subscription,
    ),
    _route(
        "DELETE",
        "/mobiledb/persons/external/{external_person_id}/subscriptions/{list_id}",
        api_subscriptions.unsubscribe,
    ),
    _route(
        "GET",
        "/mobiledb/persons/external/{external_person_id}",
        api_persons.get_person_by_external_id,
    ),
    _route(
        "PUT",
        "/mobiledb/persons/external/{external_person_id}",
        api_persons.update_person_by_external_id,
    ),
    _route(
        "GET",
        "/mobiledb/persons/{person_key}/subscriptions/?",
        api_subscriptions.list_subscriptions,
    ),
    _route(
        "GET",
        "/mobiledb/persons/{person_key}/subscriptions/{list_id}",
        api_subscriptions.get_subscription,
    ),
    _route(
        "DELETE",
        "/mobiledb/persons/{person_key}/subscriptions/{list_id}",
        api_subscriptions.unsubscribe,
    ),
    _route("GET", "/mobiledb/persons/{person_key}", api_persons.get_person),
    _route("PUT", "/mobiledb/persons/{person_key}", api_persons.update_person),
    _route("GET", "/mobiledb/subscription_lists/?", api_subscriptions.list_subscription_lists),
    _route(
        "GET",
        "/mobiledb/subscription_lists/{list_id}/acquisition_campaigns/?",
        api_subscriptions.list_campaigns_of_list,
    ),
    _route(
        "GET",
        "/mobiledb/subscription_lists/{list_id}/subscribers/?",
        api_subscriptions.search_subscriber,
    ),
    _route(
        "GET", "/mobiledb/subscription_lists/{list_id}/?", api_subscriptions.get_subscription_list
    ),
    _route("GET", "/campaigns/acquisition/?", api_subscriptions.list_campaigns),
    _route(
        "GET",
        "/campaigns/acquisition/{acquisition_id}/participants/?",
        opt_in.list_pending,
    ),
    _route(
        "POST",
        "/campaigns/acquisition/{acquisition_id}/participants/?",
        opt_in.add_participant,
    ),
    _route("GET", "/campaigns/acquisition/{acquisition_id}/?", api_subscriptions.get_campaign),
    _route("POST", "/config/callbacks/?", api_callbacks.register),
    _route("GET", "/config/callbacks/?", api_callbacks.list_registrations),
    _route("GET", "/config/callbacks/{callback_id}/?", api_callbacks.get_registration),
    _route("PUT", "/config/callbacks/{callback_id}/?", api_callbacks.update_registration),
    _route("DELETE", "/config/callbacks/{callback_id}/?", api_callbacks.delete_registration),
    _route("POST", "/config/callback_events/test/?", api_callbacks.test_event),
]

_COMPANY = re.compile(r"^/companies/(?P<company>[^/]+)(?P<rest>/.*)?$")


def _credentials_ok(sandbox: Sandbox, header: str | None) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, _, password = decoded.partition(":")
    ok = False
    for entry in sandbox.config["credentials"]:
        same_user = hmac.compare_digest(username.encode(), str(entry["username"]).encode())
        same_password = hmac.compare_digest(password.encode(), str(entry["password"]).encode())
        ok = ok or (same_user and same_password)
    return ok


def with_extra_fields(node: Any) -> Any:
    """``node`` with an unknown field added to every object, as a newer Vibes might answer.

    A person's ``custom_fields`` are left as they are: a key there is a custom field, which
    Vibes never invents.
    """
    if isinstance(node, dict):
        extended = {
            key: value if key == "custom_fields" else with_extra_fields(value)
            for key, value in node.items()
        }
        extended["sandbox_future_field"] = {"added_in": "a later API release"}
        return extended
    if isinstance(node, list):
        return [with_extra_fields(item) for item in node]
    return node


def handle(sandbox: Sandbox, limiter: SlidingWindowLimiter, request: ApiRequest) -> ApiResponse:
    """Answer one Vibes API call."""
    match = _COMPANY.match(request.path)
    if match is None:
        return error(404, "Not found.")
    if not _credentials_ok(sandbox, request.header("Authorization")):
        response = error(401, "Authentication failed: check the username and password.")
        response.headers["WWW-Authenticate"] = 'Basic realm="Vibes"'
        return response
    company = unquote(match.group("company"))
    if company != sandbox.company_key:
        return error(403, f"These credentials are not authorized for company {company}.")
    version = (request.header("X-API-Version") or "1").strip()
    request.api_version = 2 if version == "2" else 1
    if not limiter.allow(company, sandbox.faults["rate_limit"]):
        return error(429, "Too many requests: the rate limit for this company was exceeded.")
    forced = sandbox.faults.take_forced_status()
    if forced is None and sandbox.rng.random() < sandbox.faults["api_failure_rate"]:
        forced = 500
    if sandbox.faults["api_delay_ms"]:
        time.sleep(sandbox.faults["api_delay_ms"] / 1000)
    if forced is not None:
        return error(forced, f"Simulated failure (HTTP {forced}).")
    rest = match.group("rest") or "/"
    for method, regex, handler, fixed in ROUTES:
        found = regex.match(rest)
        if found is None or method != request.method:
            continue
        if request.method in ("POST", "PUT"):
            try:
                request.body = json.loads(request.raw_body.decode("utf-8") or "null")
            except (UnicodeDecodeError, json.JSONDecodeError):
                return error(400, "The request body is not valid JSON.")
        arguments = {name: unquote(value) for name, value in found.groupdict().items()}
        with sandbox.lock:
            try:
                response = handler(sandbox, request, **fixed, **arguments)
            except ApiError as exc:
                response = exc.response
        if sandbox.faults["extra_fields"] and response.status < 300:
            response.body = with_extra_fields(response.body)
        return response
    if any(regex.match(rest) for _, regex, _, _ in ROUTES):
        return error(405, f"Method {request.method} is not allowed here.")
    return error(404, "Not found.")
