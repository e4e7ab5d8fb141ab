"""Web-based double opt-in: Add Participant, the pending request, and the subscriber's answer.

Add Participant texts the number and waits (201 PENDING) or, for a single opt-in campaign,
subscribes at once (201 SUBSCRIBED). It answers 200 when a pending request already exists,
400 for a number that is not a mobile number, 409 when already subscribed, and 422 with
``MDNHASCONFIRMATIONBLOCK`` (this number answered N before), ``EXTERNALPERSONIDMISMATCH``
(that external id belongs to someone else), ``NOPROVISIONEDCARRIER`` (a landline) or the
unknown custom fields. A pending request that expires sends nothing.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from vibes_integration.sandbox import clock
from vibes_integration.sandbox.custom_fields import CustomFieldErrors, clean_custom_fields
from vibes_integration.sandbox.events import emit_participant, emit_person
from vibes_integration.sandbox.mdn import InvalidMdn, parse_api_mdn
from vibes_integration.sandbox.rendering import render_participant, render_participant_person
from vibes_integration.sandbox.wire import ApiRequest, ApiResponse, error

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox

PENDING, CONFIRMED, REJECTED, EXPIRED, SUBSCRIBED = (
    "PENDING",
    "CONFIRMED",
    "REJECTED",
    "EXPIRED",
    "SUBSCRIBED",
)
CONFIRMATION_BLOCK = "MDNHASCONFIRMATIONBLOCK"
EXTERNAL_ID_MISMATCH = "EXTERNALPERSONIDMISMATCH"
NO_CARRIER = "NOPROVISIONEDCARRIER"


def brand(sandbox: Sandbox) -> str:
    return sandbox.config.get("brand") or sandbox.company_key


def _fresh(sandbox: Sandbox, participant: dict[str, Any]) -> dict[str, Any]:
    """The participant, marked EXPIRED (silently, as Vibes does) once its time has passed."""
    if (
        participant["status"] == PENDING
        and clock.parse_iso(participant["expire_date"]) <= clock.now()
    ):
        participant = dict(participant, status=EXPIRED)
        sandbox.store.put("participant", participant["id"], participant)
    return participant


def pending_requests(
    sandbox: Sandbox, *, mdn: str | None = None, acquisition_id: str | None = None
) -> list[dict[str, Any]]:
    """Unanswered, unexpired requests, newest first."""
    found = []
    for participant in sandbox.participants_of(mdn):
        if acquisition_id is not None and participant["acquisition_id"] != acquisition_id:
            continue
        participant = _fresh(sandbox, participant)
        if participant["status"] == PENDING:
            found.append(participant)
    return sorted(found, key=lambda item: item["seq"], reverse=True)


def person_by_id(sandbox: Sandbox, person_id: str) -> dict[str, Any] | None:
    """A person by ``person_key`` or by the deprecated numeric ``person_id``."""
    person = sandbox.person(person_id)
    if person is None and person_id.isdigit():
        person = next(
            (p for p in sandbox.store.all("person") if str(p["person_id"]) == person_id), None
        )
    return person


def has_block(sandbox: Sandbox, mdn: str, acquisition_id: str) -> bool:
    return sandbox.store.get("block", f"{mdn}|{acquisition_id}") is not None


class _Refused(Exception):
    """Vibes refuses the request with ``response``."""

    def __init__(self, response: ApiResponse) -> None:
        super().__init__(response.status)
        self.response = response


def add_participant(sandbox: Sandbox, request: ApiRequest, acquisition_id: str) -> ApiResponse:
    found = sandbox.campaign(acquisition_id)
    if found is None:
        return error(404, "The acquisition_id cannot be located.")
    campaign, subscription_list = found
    body = request.body
    if not isinstance(body, dict):
        return error(400, "The request body must be a JSON object.")
    try:
        mdn = _participant_number(sandbox, request, body)
        external_person_id = body.get("external_person_id")
        if external_person_id is not None and (
            not isinstance(external_person_id, str) or not 0 < len(external_person_id) <= 128
        ):
            return error(400, "external_person_id must have 1 to 128 characters.")
        try:
            custom_fields = clean_custom_fields(
                body.get("custom_fields"), sandbox.custom_field_definitions()
            )
        except CustomFieldErrors as exc:
            return error(422, *exc.messages)
        person = _participant_person(sandbox, campaign, subscription_list, mdn, external_person_id)
    except _Refused as refused:
        return refused.response
    existing = pending_requests(sandbox, mdn=mdn, acquisition_id=campaign["id"])
    if existing:
        return ApiResponse(200, render_participant(sandbox, existing[0]))
    person = _person_for(sandbox, person, mdn, external_person_id, custom_fields)
    if campaign.get("opt_in") == "single":
        sandbox.subscribe(person, subscription_list, campaign["id"])
        participant = _record(sandbox, campaign, subscription_list, person, mdn, SUBSCRIBED)
        sandbox.text(mdn, welcome_text(sandbox, subscription_list))
        return ApiResponse(201, render_participant(sandbox, participant))
    participant = _record(sandbox, campaign, subscription_list, person, mdn, PENDING)
    sandbox.text(mdn, confirmation_text(sandbox, campaign, subscription_list))
    emit_participant(sandbox, "ack_participant_added", participant)
    return ApiResponse(201, render_participant(sandbox, participant))


def _participant_number(sandbox: Sandbox, request: ApiRequest, body: dict[str, Any]) -> str:
    """The number to opt in: ``mobile_phone.mdn``, or the one the ``person_id`` has."""
    phone = body.get("mobile_phone")
    raw_mdn = phone.get("mdn") if isinstance(phone, dict) else None
    if raw_mdn is None and body.get("person_id") is not None:
        # Adding by person_id: the number is the one that person already has.
        by_id = person_by_id(sandbox, str(body["person_id"]))
        if by_id is None:
            raise _Refused(error(404, "The person_id cannot be located."))
        if not by_id.get("mdn"):
            raise _Refused(error(400, "The person has no mobile number; send mobile_phone.mdn."))
        return by_id["mdn"]
    try:
        return parse_api_mdn(
            raw_mdn, version=request.api_version, region=sandbox.config["default_region"]
        )
    except InvalidMdn:
        raise _Refused(
            error(400, "The supplied mobile number is not in proper mobile number format.")
        ) from None


def _participant_person(
    sandbox: Sandbox,
    campaign: dict[str, Any],
    subscription_list: dict[str, Any],
    mdn: str,
    external_person_id: str | None,
) -> dict[str, Any] | None:
    """The person the opt-in is for (None: a new one), unless Vibes refuses the opt-in."""
    if mdn in sandbox.config["landline_mdns"]:
        raise _Refused(
            error(
                422,
                ("The supplied phone number does not map to a provisioned carrier.", NO_CARRIER),
            )
        )
    holder = sandbox.person_by_mdn(mdn)
    owner = sandbox.person_by_external_id(external_person_id) if external_person_id else None
    person = holder
    in_use = ("The external_person_id is already in use.", EXTERNAL_ID_MISMATCH)
    if owner is not None and owner is not holder:
        if holder is None and not owner.get("mdn"):
            person = owner
        else:
            raise _Refused(error(422, in_use))
    if (
        holder is not None
        and external_person_id
        and holder.get("external_person_id")
        and holder["external_person_id"] != external_person_id
    ):
        raise _Refused(error(422, in_use))
    if person is not None and sandbox.active_subscription(
        person["person_key"], subscription_list["id"]
    ):
        raise _Refused(
            error(409, "Already subscribed: the person is already subscribed to the list.")
        )
    if has_block(sandbox, mdn, campaign["id"]):
        raise _Refused(
            error(
                422,
                ("The MDN previously replied No to this acquisition campaign.", CONFIRMATION_BLOCK),
            )
        )
    return person


def landing_page_sign_up(sandbox: Sandbox, mdn: str, acquisition_id: str) -> ApiResponse:
    """A number typed into a Vibes-hosted landing page of the campaign: the same double
    opt-in as Add Participant, but Vibes knows no CRM id, so a new person has none."""
    request = ApiRequest(
        method="POST",
        path="/_sandbox/landing_page",
        raw_query="",
        query={},
        headers={},
        body={"mobile_phone": {"mdn": mdn}},
        api_version=2,
    )
    return add_participant(sandbox, request, acquisition_id)


def _person_for(
    sandbox: Sandbox,
    person: dict[str, Any] | None,
    mdn: str,
    external_person_id: str | None,
    custom_fields: dict[str, Any],
) -> dict[str, Any]:
    """The person the request is for: found (and completed) or created, announced either way."""
    if person is None:
        person = sandbox.create_person(
            external_person_id=external_person_id, mdn=mdn, custom_fields=custom_fields
        )
        emit_person(sandbox, "person_added", person)
        return person
    previous = person
    person = copy.deepcopy(person)
    if not person.get("mdn"):
        person["mdn"] = mdn
        person["carrier_code"] = sandbox.config["carrier_code"]
    if external_person_id and not person.get("external_person_id"):
        person["external_person_id"] = external_person_id
    for key, value in custom_fields.items():
        if value is None:
            person["custom_fields"].pop(key, None)
        else:
            person["custom_fields"][key] = value
    if person != previous:
        person["updated_at"] = clock.iso(clock.now())
        sandbox.save_person(person, previous=previous)
        emit_person(sandbox, "person_updated", person)
    return person


def _record(
    sandbox: Sandbox,
    campaign: dict[str, Any],
    subscription_list: dict[str, Any],
    person: dict[str, Any],
    mdn: str,
    status: str,
) -> dict[str, Any]:
    seq = sandbox.store.next_id("participant")
    participant = {
        "id": f"P{seq}",
        "seq": seq,
        "acquisition_id": campaign["id"],
        "list_id": subscription_list["id"],
        "person_key": person["person_key"],
        "mdn": mdn,
        "participation_date": clock.iso(clock.now()),
        "expire_date": clock.later(float(sandbox.config["pending_ttl_seconds"])),
        "status": status,
    }
    return sandbox.add_participant_record(participant)


def list_pending(sandbox: Sandbox, request: ApiRequest, acquisition_id: str) -> ApiResponse:
    if sandbox.campaign(acquisition_id) is None:
        return error(404, "The acquisition_id cannot be located.")
    raw_mdn = request.param("mdn")
    person_id = request.param("person_id")
    external_person_id = request.param("external_person_id")
    if raw_mdn is None and person_id is None and external_person_id is None:
        return error(400, "Search by mdn, person_id or external_person_id.")
    mdn = None
    if raw_mdn is not None:
        try:
            mdn = parse_api_mdn(
                raw_mdn, version=request.api_version, region=sandbox.config["default_region"]
            )
        except InvalidMdn:
            return error(400, "The supplied MDN is not in proper mobile number format.")
    found = []
    for participant in pending_requests(sandbox, mdn=mdn, acquisition_id=acquisition_id):
        person = sandbox.person(participant["person_key"]) or {}
        if person_id is not None and person_id not in (
            person.get("person_key"),
            str(person.get("person_id")),
        ):
            continue
        if external_person_id is not None and person.get("external_person_id") != (
            external_person_id
        ):
            continue
        found.append(participant)
    body = []
    for participant in found:
        rendered = render_participant(sandbox, participant)
        person = sandbox.person(participant["person_key"])
        rendered["person"] = render_participant_person(sandbox, person) if person else {}
        body.append(rendered)
    return ApiResponse(200, body)


def answer(sandbox: Sandbox, participant: dict[str, Any], status: str) -> dict[str, Any]:
    """The subscriber answered a pending request: CONFIRMED subscribes, REJECTED blocks."""
    participant = dict(participant, status=status, answered_at=clock.iso(clock.now()))
    sandbox.store.put("participant", participant["id"], participant)
    emit_participant(sandbox, "ack_participant_changed", participant)
    found = sandbox.campaign(participant["acquisition_id"])
    if status == CONFIRMED:
        person = sandbox.person(participant["person_key"])
        if (
            found
            and person
            and not sandbox.active_subscription(person["person_key"], participant["list_id"])
        ):
            sandbox.subscribe(person, found[1], participant["acquisition_id"])
    elif status == REJECTED:
        key = f"{participant['mdn']}|{participant['acquisition_id']}"
        sandbox.store.put(
            "block",
            key,
            {
                "mdn": participant["mdn"],
                "acquisition_id": participant["acquisition_id"],
                "date": clock.iso(clock.now()),
            },
        )
    return participant


def expire(sandbox: Sandbox, *, mdn: str | None = None) -> int:
    """Let pending requests lapse now (a control action standing in for the passing of time)."""
    count = 0
    for participant in pending_requests(sandbox, mdn=mdn):
        lapsed = dict(participant, status=EXPIRED, expire_date=clock.iso(clock.now()))
        sandbox.store.put("participant", lapsed["id"], lapsed)
        count += 1
    return count


def confirmation_text(
    sandbox: Sandbox, campaign: dict[str, Any], subscription_list: dict[str, Any]
) -> str:
    if campaign.get("confirmation_text"):
        return str(campaign["confirmation_text"])
    return (
        f"{brand(sandbox)}: Reply Y to confirm you want {subscription_list['name']} texts. "
        "Reply N to decline. Msg&data rates may apply."
    )


def welcome_text(sandbox: Sandbox, subscription_list: dict[str, Any]) -> str:
    return (
        f"{brand(sandbox)}: You're subscribed to {subscription_list['name']}. "
        "Reply HELP for help, STOP to cancel. Msg&data rates may apply."
    )
