"""The control API under ``/_sandbox/``: what tests and people use to steer the sandbox.

No Vibes credentials: the sandbox is a development tool bound to localhost by default.
JSON in, JSON out, except the phone page (HTML forms, no JavaScript needed).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from vibes_integration.sandbox import opt_in, phone_page
from vibes_integration.sandbox.config import ConfigError
from vibes_integration.sandbox.contract import ContractError
from vibes_integration.sandbox.faults import FaultError
from vibes_integration.sandbox.mdn import InvalidMdn, parse_api_mdn
from vibes_integration.sandbox.phone import receive_text
from vibes_integration.sandbox.seeding import SeedError, import_records
from vibes_integration.sandbox.triggers import TriggerError, trigger, upsert_list
from vibes_integration.sandbox.wire import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox
    from vibes_integration.sandbox.server import SandboxServer


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def _json_body(request: ApiRequest) -> dict[str, Any]:
    if not request.raw_body:
        return {}
    try:
        body = json.loads(request.raw_body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(400, f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def control_mdn(sandbox: Sandbox, raw: Any) -> str:
    """A number as people type it on the control API: E.164, or national digits."""
    text = str(raw or "").strip()
    try:
        if text.startswith("+"):
            return parse_api_mdn(text, version=2)
        digits = "".join(character for character in text if character.isdigit())
        return parse_api_mdn(digits, version=1, region=sandbox.config["default_region"])
    except InvalidMdn as exc:
        raise ControlError(400, f"{text!r} is not a valid mobile number") from exc


def _int_param(request: ApiRequest, name: str) -> int | None:
    value = request.param(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ControlError(400, f"{name} must be a whole number") from exc


def handle_control(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    try:
        return _route(server, request)
    except ControlError as exc:
        return ApiResponse(exc.status, {"error": exc.message})
    except (ConfigError, ContractError, FaultError, TriggerError) as exc:
        return ApiResponse(400, {"error": str(exc)})


def _route(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    sandbox = server.sandbox
    path = request.path.rstrip("/") or "/"
    method = request.method
    route = (method, path)
    if path == "/_sandbox/phone":
        return phone_page.handle(sandbox, request)
    if route in (("GET", "/_sandbox"), ("HEAD", "/_sandbox")):
        return ApiResponse(
            200,
            {
                "company_key": sandbox.company_key,
                "pending_deliveries": sandbox.delivery.pending(),
                "phone": "/_sandbox/phone/",
            },
        )
    if route == ("POST", "/_sandbox/reset"):
        server.reset()
        return ApiResponse(200, {"reset": True})
    if route == ("POST", "/_sandbox/seed"):
        server.seed(_json_body(request))
        return ApiResponse(200, {"seeded": sandbox.company_key})
    if route == ("GET", "/_sandbox/config"):
        return ApiResponse(200, sandbox.config)
    if route == ("GET", "/_sandbox/calls"):
        return ApiResponse(200, server.calls.since(_int_param(request, "since_id")))
    if route == ("DELETE", "/_sandbox/calls"):
        server.calls.clear()
        return ApiResponse(200, {"cleared": True})
    if route == ("GET", "/_sandbox/faults"):
        return ApiResponse(200, sandbox.faults.as_dict())
    if route == ("POST", "/_sandbox/faults"):
        knobs = _json_body(request)
        with sandbox.lock:
            values = sandbox.faults.update(knobs)
            if knobs.get("seed") is not None:
                sandbox.rng.seed(knobs["seed"])
        return ApiResponse(200, values)
    if route == ("GET", "/_sandbox/contract"):
        with sandbox.lock:
            return ApiResponse(200, dict(sandbox.contract))
    if route == ("POST", "/_sandbox/contract"):
        return ApiResponse(200, sandbox.set_contract(_json_body(request)))
    if route == ("POST", "/_sandbox/phone/reply"):
        body = _json_body(request)
        mdn = control_mdn(sandbox, body.get("mdn"))
        text = str(body.get("text") or "").strip()
        if not text:
            raise ControlError(400, "text is required")
        with sandbox.lock:
            outcome = receive_text(sandbox, mdn, text)
        return ApiResponse(200, dict(outcome, mdn=mdn))
    if route == ("GET", "/_sandbox/phone/messages"):
        mdn = control_mdn(sandbox, request.param("mdn")) if request.param("mdn") else None
        with sandbox.lock:
            return ApiResponse(200, sandbox.messages(mdn))
    if route == ("POST", "/_sandbox/trigger"):
        body = _json_body(request)
        with sandbox.lock:
            queued = trigger(sandbox, body.pop("callback_type", None), body)
        return ApiResponse(200, queued)
    if route == ("GET", "/_sandbox/deliveries"):
        return ApiResponse(200, sandbox.delivery.entries(_int_param(request, "since_id")))
    if route == ("GET", "/_sandbox/deliveries/wait"):
        try:
            timeout = float(request.param("timeout") or 10)
        except ValueError as exc:
            raise ControlError(400, "timeout must be a number of seconds") from exc
        idle = sandbox.delivery.wait_idle(min(timeout, 120))
        return ApiResponse(200, {"idle": idle, "pending": sandbox.delivery.pending()})
    if route == ("POST", "/_sandbox/participants/expire"):
        body = _json_body(request)
        mdn = control_mdn(sandbox, body["mdn"]) if body.get("mdn") else None
        with sandbox.lock:
            return ApiResponse(200, {"expired": opt_in.expire(sandbox, mdn=mdn)})
    if route == ("POST", "/_sandbox/landing_page"):
        body = _json_body(request)
        mdn = control_mdn(sandbox, body.get("mdn"))
        with sandbox.lock:
            answer = opt_in.landing_page_sign_up(sandbox, mdn, str(body.get("campaign_id") or ""))
        return ApiResponse(200, {"status": answer.status, "answer": answer.body})
    if route == ("POST", "/_sandbox/import"):
        with sandbox.lock:
            try:
                return ApiResponse(200, import_records(sandbox, _json_body(request)))
            except SeedError as exc:
                raise ControlError(400, str(exc)) from exc
    if route == ("POST", "/_sandbox/lists"):
        with sandbox.lock:
            return ApiResponse(200, upsert_list(sandbox, _json_body(request)))
    if method == "GET" and path in _DUMPS:
        with sandbox.lock:
            return ApiResponse(200, _DUMPS[path](sandbox))
    raise ControlError(404, f"no control endpoint {method} {request.path}")


def dump_persons(sandbox: Sandbox) -> list[dict[str, Any]]:
    return sorted(
        (dict(person) for person in sandbox.store.all("person")),
        key=lambda person: person["person_id"],
    )


def dump_subscriptions(sandbox: Sandbox) -> list[dict[str, Any]]:
    records = []
    for record in sorted(sandbox.store.all("subscription"), key=lambda item: item["seq"]):
        person = sandbox.person(record["person_key"]) or {}
        records.append(
            dict(
                record,
                mdn=person.get("mdn"),
                external_person_id=person.get("external_person_id"),
                active=not record.get("opt_out_date"),
            )
        )
    return records


def dump_participants(sandbox: Sandbox) -> list[dict[str, Any]]:
    opt_in.pending_requests(sandbox)
    return sorted(sandbox.store.all("participant"), key=lambda item: item["seq"])


def dump_blocks(sandbox: Sandbox) -> list[dict[str, Any]]:
    return sorted(sandbox.store.all("block"), key=lambda item: (item["mdn"], item["date"]))


def dump_callbacks(sandbox: Sandbox) -> list[dict[str, Any]]:
    return sorted(sandbox.store.all("callback"), key=lambda item: int(item["callback_id"]))


_DUMPS = {
    "/_sandbox/persons": dump_persons,
    "/_sandbox/subscriptions": dump_subscriptions,
    "/_sandbox/participants": dump_participants,
    "/_sandbox/blocks": dump_blocks,
    "/_sandbox/callbacks": dump_callbacks,
}


def form_fields(request: ApiRequest) -> dict[str, str]:
    """The fields of an HTML form post (last value wins)."""
    parsed = parse_qs(request.raw_body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}
