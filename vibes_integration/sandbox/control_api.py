"""The control API under ``/_sandbox/``: what tests and people use to steer the sandbox.

No Vibes credentials: the sandbox is a development tool bound to localhost by default.
JSON in, JSON out, except the phone page (HTML forms, no JavaScript needed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vibes_integration.sandbox import opt_in, phone_page
from vibes_integration.sandbox.config import ConfigError
from vibes_integration.sandbox.contract import ContractError
from vibes_integration.sandbox.control_input import (
    ControlError,
    control_mdn,
    int_param,
    json_body,
)
from vibes_integration.sandbox.faults import FaultError
from vibes_integration.sandbox.phone import receive_text
from vibes_integration.sandbox.seeding import SeedError, import_records
from vibes_integration.sandbox.triggers import TriggerError, trigger, upsert_list
from vibes_integration.sandbox.wire import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox
    from vibes_integration.sandbox.server import SandboxServer


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
    if path == "/_sandbox/phone":
        return phone_page.handle(sandbox, request)
    endpoint = _ENDPOINTS.get((request.method, path))
    if endpoint is not None:
        return endpoint(server, request)
    if request.method == "GET" and path in _DUMPS:
        with sandbox.lock:
            return ApiResponse(200, _DUMPS[path](sandbox))
    raise ControlError(404, f"no control endpoint {request.method} {request.path}")


def _overview(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    sandbox = server.sandbox
    return ApiResponse(
        200,
        {
            "company_key": sandbox.company_key,
            "pending_deliveries": sandbox.delivery.pending(),
            "phone": "/_sandbox/phone/",
        },
    )


def _reset(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    server.reset()
    return ApiResponse(200, {"reset": True})


def _seed(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    server.seed(json_body(request))
    return ApiResponse(200, {"seeded": server.sandbox.company_key})


def _config(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, server.sandbox.config)


def _calls(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, server.calls.since(int_param(request, "since_id")))


def _calls_clear(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    server.calls.clear()
    return ApiResponse(200, {"cleared": True})


def _faults(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, server.sandbox.faults.as_dict())


def _faults_set(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    sandbox = server.sandbox
    knobs = json_body(request)
    with sandbox.lock:
        values = sandbox.faults.update(knobs)
        if knobs.get("seed") is not None:
            sandbox.rng.seed(knobs["seed"])
    return ApiResponse(200, values)


def _contract(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    with server.sandbox.lock:
        return ApiResponse(200, dict(server.sandbox.contract))


def _contract_set(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, server.sandbox.set_contract(json_body(request)))


def _phone_reply(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    sandbox = server.sandbox
    body = json_body(request)
    mdn = control_mdn(sandbox, body.get("mdn"))
    text = str(body.get("text") or "").strip()
    if not text:
        raise ControlError(400, "text is required")
    with sandbox.lock:
        outcome = receive_text(sandbox, mdn, text)
    return ApiResponse(200, dict(outcome, mdn=mdn))


def _phone_messages(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    sandbox = server.sandbox
    mdn = control_mdn(sandbox, request.param("mdn")) if request.param("mdn") else None
    with sandbox.lock:
        return ApiResponse(200, sandbox.messages(mdn))


def _trigger(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    body = json_body(request)
    with server.sandbox.lock:
        queued = trigger(server.sandbox, body.pop("callback_type", None), body)
    return ApiResponse(200, queued)


def _deliveries(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, server.sandbox.delivery.entries(int_param(request, "since_id")))


def _deliveries_wait(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    try:
        timeout = float(request.param("timeout") or 10)
    except ValueError as exc:
        raise ControlError(400, "timeout must be a number of seconds") from exc
    delivery = server.sandbox.delivery
    idle = delivery.wait_idle(min(timeout, 120))
    return ApiResponse(200, {"idle": idle, "pending": delivery.pending()})


def _participants_expire(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    sandbox = server.sandbox
    body = json_body(request)
    mdn = control_mdn(sandbox, body["mdn"]) if body.get("mdn") else None
    with sandbox.lock:
        return ApiResponse(200, {"expired": opt_in.expire(sandbox, mdn=mdn)})


def _landing_page(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    sandbox = server.sandbox
    body = json_body(request)
    mdn = control_mdn(sandbox, body.get("mdn"))
    with sandbox.lock:
        answer = opt_in.landing_page_sign_up(sandbox, mdn, str(body.get("campaign_id") or ""))
    return ApiResponse(200, {"status": answer.status, "answer": answer.body})


def _import(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    with server.sandbox.lock:
        try:
            return ApiResponse(200, import_records(server.sandbox, json_body(request)))
        except SeedError as exc:
            raise ControlError(400, str(exc)) from exc


def _lists(server: SandboxServer, request: ApiRequest) -> ApiResponse:
    with server.sandbox.lock:
        return ApiResponse(200, upsert_list(server.sandbox, json_body(request)))


_ENDPOINTS: dict[tuple[str, str], Callable[[SandboxServer, ApiRequest], ApiResponse]] = {
    ("GET", "/_sandbox"): _overview,
    ("HEAD", "/_sandbox"): _overview,
    ("POST", "/_sandbox/reset"): _reset,
    ("POST", "/_sandbox/seed"): _seed,
    ("GET", "/_sandbox/config"): _config,
    ("GET", "/_sandbox/calls"): _calls,
    ("DELETE", "/_sandbox/calls"): _calls_clear,
    ("GET", "/_sandbox/faults"): _faults,
    ("POST", "/_sandbox/faults"): _faults_set,
    ("GET", "/_sandbox/contract"): _contract,
    ("POST", "/_sandbox/contract"): _contract_set,
    ("POST", "/_sandbox/phone/reply"): _phone_reply,
    ("GET", "/_sandbox/phone/messages"): _phone_messages,
    ("POST", "/_sandbox/trigger"): _trigger,
    ("GET", "/_sandbox/deliveries"): _deliveries,
    ("GET", "/_sandbox/deliveries/wait"): _deliveries_wait,
    ("POST", "/_sandbox/participants/expire"): _participants_expire,
    ("POST", "/_sandbox/landing_page"): _landing_page,
    ("POST", "/_sandbox/import"): _import,
    ("POST", "/_sandbox/lists"): _lists,
}


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
