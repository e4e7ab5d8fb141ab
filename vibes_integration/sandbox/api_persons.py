"""Persons: get, find by MDN, Add Person (create or merge), Update Person.

Rules, as Vibes documents them: MDN and external_person_id are unique, and a person has one
number at a time; Add Person answers 201 for a new person (with the person, or with no body
as the contract says), 200 when it merges into the person of that MDN (fields not sent
stay), 409 when the MDN or external id belongs to another person; Update Person answers 201
with no body (or 200 echoing the body sent, as the contract says), 404 and 409 without a
body, 409 on any MDN change (``"mdn": null`` removes it, and the person stays); by an
external id Vibes does not know it answers 404 (or adds the person, as the contract says);
``"external_person_id": null`` unlinks the CRM's id; unknown custom fields get a 422 naming
each of them, and so does a number in the body that is not a mobile number in the API
version's format, or an external id longer than 128 characters (the document lists no 400
for these operations; the query string's MDN of Find Person is a 400, as documented).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from vibes_integration.sandbox import clock
from vibes_integration.sandbox.custom_fields import CustomFieldErrors, clean_custom_fields
from vibes_integration.sandbox.events import emit_person
from vibes_integration.sandbox.mdn import InvalidMdn, parse_api_mdn
from vibes_integration.sandbox.rendering import render_person
from vibes_integration.sandbox.wire import ApiError, ApiRequest, ApiResponse, empty, error

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox

_UNSET = object()


def get_person(sandbox: Sandbox, request: ApiRequest, person_key: str) -> ApiResponse:
    person = sandbox.person(person_key)
    if person is None:
        return error(404, "The person record cannot be found using this person_key.")
    return ApiResponse(200, render_person(sandbox, person, version=request.api_version))


def get_person_by_external_id(
    sandbox: Sandbox, request: ApiRequest, external_person_id: str
) -> ApiResponse:
    person = sandbox.person_by_external_id(external_person_id)
    if person is None:
        return error(404, "Person record cannot be found using the specified external_person_id.")
    return ApiResponse(200, render_person(sandbox, person, version=request.api_version))


def find_person(sandbox: Sandbox, request: ApiRequest) -> ApiResponse:
    raw = request.param("mdn")
    if not raw:
        return error(404, "MDN not found.")
    try:
        mdn = parse_api_mdn(
            raw, version=request.api_version, region=sandbox.config["default_region"]
        )
    except InvalidMdn as exc:
        return error(400, str(exc))
    person = sandbox.person_by_mdn(mdn)
    if person is None:
        return error(404, "MDN not found.")
    return ApiResponse(200, render_person(sandbox, person, version=request.api_version))


def _body_object(request: ApiRequest) -> dict[str, Any]:
    if not isinstance(request.body, dict):
        raise ApiError(error(400, "The request body must be a JSON object."))
    return request.body


def _external_id(body: dict[str, Any]) -> Any:
    if "external_person_id" not in body:
        return _UNSET
    value = body["external_person_id"]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ApiError(error(400, "external_person_id must be a string."))
    value = str(value)
    if not value or len(value) > 128:
        raise ApiError(error(422, "external_person_id must have 1 to 128 characters."))
    return value


def _mobile_phone(sandbox: Sandbox, request: ApiRequest, body: dict[str, Any]) -> tuple[Any, Any]:
    """(mdn, carrier_code) from the body; ``_UNSET`` for what was not sent, None to remove."""
    if "mobile_phone" not in body:
        return _UNSET, _UNSET
    phone = body["mobile_phone"]
    if phone is None:
        return None, _UNSET
    if not isinstance(phone, dict):
        raise ApiError(error(400, "mobile_phone must be an object with mdn."))
    carrier_code = phone.get("carrier_code", _UNSET)
    if "mdn" not in phone:
        return _UNSET, carrier_code
    if phone["mdn"] is None:
        return None, carrier_code
    try:
        mdn = parse_api_mdn(
            phone["mdn"], version=request.api_version, region=sandbox.config["default_region"]
        )
    except InvalidMdn as exc:
        # The document lists no 400 for persons' bodies: a number Vibes cannot use is 422.
        raise ApiError(error(422, str(exc))) from exc
    return mdn, carrier_code


def _custom_fields(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return clean_custom_fields(body.get("custom_fields"), sandbox.custom_field_definitions())
    except CustomFieldErrors as exc:
        raise ApiError(error(422, *exc.messages)) from exc


def _apply(
    person: dict[str, Any],
    *,
    external_person_id: Any,
    mdn: Any,
    carrier_code: Any,
    custom_fields: dict[str, Any],
    default_carrier: str,
) -> bool:
    """Change ``person`` in place; True when anything changed."""
    before = copy.deepcopy(person)
    if external_person_id is not _UNSET:
        # null unlinks the CRM's id (Vibes' erasure sends it with the number and fields)
        person["external_person_id"] = external_person_id
    if mdn is None:
        person["mdn"] = None
        person["carrier_code"] = None
    elif mdn is not _UNSET:
        person["mdn"] = mdn
        person["carrier_code"] = person.get("carrier_code") or default_carrier
    if carrier_code is not _UNSET and person.get("mdn"):
        person["carrier_code"] = carrier_code
    fields = person.setdefault("custom_fields", {})
    for key, value in custom_fields.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    changed = person != before
    if changed:
        person["updated_at"] = clock.iso(clock.now())
    return changed


def add_person(sandbox: Sandbox, request: ApiRequest) -> ApiResponse:
    body = _body_object(request)
    external_person_id = _external_id(body)
    mdn, carrier_code = _mobile_phone(sandbox, request, body)
    custom_fields = _custom_fields(sandbox, body)
    holder = sandbox.person_by_mdn(mdn) if isinstance(mdn, str) else None
    owner = (
        sandbox.person_by_external_id(external_person_id)
        if isinstance(external_person_id, str)
        else None
    )
    if holder is not None:
        if (
            isinstance(external_person_id, str)
            and holder.get("external_person_id")
            and holder["external_person_id"] != external_person_id
        ):
            return error(409, "The MDN is already associated with another person record.")
        if owner is not None and owner is not holder:
            return error(409, "The external_person_id belongs to another person record.")
        previous = copy.deepcopy(holder)
        person = copy.deepcopy(holder)
        changed = _apply(
            person,
            external_person_id=external_person_id,
            mdn=_UNSET,
            carrier_code=carrier_code,
            custom_fields=custom_fields,
            default_carrier=sandbox.config["carrier_code"],
        )
        if changed:
            sandbox.save_person(person, previous=previous)
            emit_person(sandbox, "person_updated", person)
        return ApiResponse(200, render_person(sandbox, person, version=request.api_version))
    if owner is not None:
        return error(409, "A person with this external_person_id already exists.")
    person = sandbox.create_person(
        external_person_id=external_person_id if isinstance(external_person_id, str) else None,
        mdn=mdn if isinstance(mdn, str) else None,
        carrier_code=carrier_code if isinstance(carrier_code, str) else None,
        custom_fields=custom_fields,
    )
    emit_person(sandbox, "person_added", person)
    if sandbox.contract["add_person_answer"] == "created_no_body":
        return empty(201)
    return ApiResponse(201, render_person(sandbox, person, version=request.api_version))


def update_person(sandbox: Sandbox, request: ApiRequest, person_key: str) -> ApiResponse:
    return _update(sandbox, request, sandbox.person(person_key))


def update_person_by_external_id(
    sandbox: Sandbox, request: ApiRequest, external_person_id: str
) -> ApiResponse:
    current = sandbox.person_by_external_id(external_person_id)
    if current is None and sandbox.contract["update_by_unknown_external_id"] == "upsert":
        return _upsert(sandbox, request, external_person_id)
    return _update(sandbox, request, current)


def _updated(request: ApiRequest, sandbox: Sandbox) -> ApiResponse:
    """Update Person's success, in the reading of the contract being played."""
    if sandbox.contract["update_person_answer"] == "ok_echo":
        return ApiResponse(200, request.body)
    return empty(201)


def _upsert(sandbox: Sandbox, request: ApiRequest, external_person_id: str) -> ApiResponse:
    """Update Person by an unknown external id read as "add or update a person record"."""
    body = _body_object(request)
    sent_external_id = _external_id(body)
    mdn, carrier_code = _mobile_phone(sandbox, request, body)
    custom_fields = _custom_fields(sandbox, body)
    if isinstance(sent_external_id, str) and sent_external_id != external_person_id:
        return error(422, "external_person_id in the body differs from the one in the path.")
    if isinstance(mdn, str) and sandbox.person_by_mdn(mdn) is not None:
        return empty(409)
    person = sandbox.create_person(
        external_person_id=external_person_id,
        mdn=mdn if isinstance(mdn, str) else None,
        carrier_code=carrier_code if isinstance(carrier_code, str) else None,
        custom_fields=custom_fields,
    )
    emit_person(sandbox, "person_added", person)
    return _updated(request, sandbox)


def _update(sandbox: Sandbox, request: ApiRequest, current: dict[str, Any] | None) -> ApiResponse:
    if current is None:
        return empty(404)
    body = _body_object(request)
    external_person_id = _external_id(body)
    mdn, carrier_code = _mobile_phone(sandbox, request, body)
    custom_fields = _custom_fields(sandbox, body)
    if isinstance(mdn, str) and mdn != current.get("mdn"):
        return empty(409)
    if isinstance(external_person_id, str):
        owner = sandbox.person_by_external_id(external_person_id)
        if owner is not None and owner is not current:
            return error(409, "The external_person_id belongs to another person record.")
    person = copy.deepcopy(current)
    changed = _apply(
        person,
        external_person_id=external_person_id,
        mdn=mdn,
        carrier_code=carrier_code,
        custom_fields=custom_fields,
        default_carrier=sandbox.config["carrier_code"],
    )
    if changed:
        sandbox.save_person(person, previous=current)
        emit_person(sandbox, "person_updated", person)
    return _updated(request, sandbox)
