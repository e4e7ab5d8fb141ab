"""Turns a callback body, in any of the spellings Vibes uses, into one typed event.

Vibes' own examples name the same thing in several ways (``id`` / ``person_id``, the
deprecated numeric id, beside ``person_key``; ``external_id`` / ``external_person_id``;
``callback_type`` / ``event_type``; timestamps with ``Z``, ``+0000`` or without seconds; E.164 or
version-1 national numbers). Everything is normalised here, once, so that the handlers
see one shape. Unknown fields are ignored: Vibes may add fields at any time.

``peek`` is the only part the request uses: it finds the event id and type without
building anything else, to keep the callback view fast.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from django.core.exceptions import SuspiciousOperation
from django.utils.dateparse import parse_datetime

from crm.choices import OptOutReason
from crm.phone import vibes_mdn
from vibes_integration.callbacks.events import (
    CallbackEnvelope,
    CallbackEventData,
    CallbackType,
    ParticipantEvent,
    ParticipantStatus,
    PersonEvent,
    PersonRef,
    SubscriptionEvent,
    SubscriptionListEvent,
    UnknownEvent,
)
from vibes_integration.callbacks.storable import storable


class CallbackParseError(SuspiciousOperation):
    """The body is authenticated but is not a callback we can read."""


class Peek(NamedTuple):
    event_id: str | None
    callback_type: str
    delivery_attempt: int | None


_NOTHING = Peek(None, "", None)


def peek(body: bytes) -> Peek:
    """Find the event id, type and delivery attempt, and nothing more.

    A body that is not a JSON object gives empty values; the request stores it anyway.
    """
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python walks
        return _NOTHING
    if not isinstance(payload, dict):
        return _NOTHING
    remote_type = _text(payload.get("callback_type")) or _text(payload.get("event_type")) or ""
    return Peek(_text(payload.get("event_id")), remote_type, _int(payload.get("delivery_attempt")))


def parse_body(body: str) -> tuple[dict[str, Any], CallbackEventData]:
    """Parse a stored raw body; raises ``CallbackParseError`` for what is not a callback."""
    try:
        payload = storable(json.loads(body, parse_constant=_not_json))
    except ValueError as exc:
        raise CallbackParseError(f"The body is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise CallbackParseError("The body is JSON nested too deeply to read.") from exc
    if not isinstance(payload, dict):
        raise CallbackParseError("The body is JSON but not an object.")
    return payload, parse_payload(payload)


def _not_json(constant: str) -> Any:
    # Python reads NaN and Infinity, which JSON has not and no database column stores.
    raise ValueError(f"{constant} is not a JSON value")


def parse_payload(payload: Mapping[str, Any]) -> CallbackEventData:
    envelope = parse_envelope(payload)
    parser = _PARSERS.get(envelope.callback_type)
    if parser is None:
        return UnknownEvent(envelope=envelope)
    return parser(envelope, payload)


def parse_envelope(payload: Mapping[str, Any]) -> CallbackEnvelope:
    remote_type = _text(payload.get("callback_type")) or _text(payload.get("event_type")) or ""
    event_date = parse_timestamp(payload.get("event_date"), "event_date")
    return CallbackEnvelope(
        event_id=_text(payload.get("event_id")),
        callback_type=CallbackType.from_remote(remote_type),
        remote_type=remote_type,
        event_date=event_date,
        delivery_attempt=_int(payload.get("delivery_attempt")),
        is_test=_truthy(payload.get("test")) or _truthy(payload.get("is_test")),
        event_date_latest=timestamp_latest(payload.get("event_date"), event_date),
    )


_WITHOUT_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?:Z|[+-]\d{2}:?\d{2})?$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def timestamp_latest(raw: Any, parsed: datetime.datetime | None) -> datetime.datetime | None:
    """The end of the span a timestamp names: a minute without seconds, a day for a bare
    date, the moment itself otherwise."""
    if parsed is None or not isinstance(raw, str):
        return parsed
    text = raw.strip()
    if _WITHOUT_SECONDS.match(text):
        return parsed + datetime.timedelta(minutes=1, microseconds=-1)
    if _DATE_ONLY.match(text):
        return parsed + datetime.timedelta(days=1, microseconds=-1)
    return parsed


def parse_timestamp(value: Any, name: str = "timestamp") -> datetime.datetime | None:
    """Any timestamp shape Vibes sends → an aware UTC datetime (None when absent).

    Accepts ``2017-02-15T15:42:23Z``, ``2017-02-18T15:34:52+0000``, ``2017-01-15T14:30Z``,
    fractions of seconds, a space for ``T``, a bare date, and Unix seconds or
    milliseconds. A value that is present but none of these raises ``CallbackParseError``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CallbackParseError(f"{name}={value!r} is not a timestamp.")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 100_000_000_000 else value
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    text = str(value).strip()
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise CallbackParseError(f"{name}={text!r} is not a timestamp Vibes sends.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.astimezone(datetime.UTC)


def parse_person_ref(person: Any, *, mobile_phone: Any = None) -> PersonRef:
    if not isinstance(person, Mapping):
        person = {}
    mobile = mobile_phone if mobile_phone is not None else _mobile_phone(person)
    mdn = None
    if isinstance(mobile, Mapping):
        mdn = vibes_mdn(mobile.get("mdn"))
    if mdn is None:
        mdn = vibes_mdn(person.get("mdn"))
    return PersonRef(
        person_key=_first_text(person, "person_key"),
        external_person_id=_first_text(person, "external_person_id", "external_id"),
        mdn=mdn,
        # ``id`` is the deprecated numeric person_id in Vibes' references, not the key.
        person_id=_first_text(person, "person_id", "id"),
    )


def _mobile_phone(mapping: Mapping[str, Any]) -> Any:
    if "mobile_phone" in mapping:
        return mapping["mobile_phone"]
    return mapping.get("mobile")


def _parse_subscription(
    envelope: CallbackEnvelope, payload: Mapping[str, Any]
) -> SubscriptionEvent:
    subscription = payload.get("subscription")
    if not isinstance(subscription, Mapping):
        subscription = payload
    person = parse_person_ref(subscription.get("person"))
    if person.is_empty:
        raise CallbackParseError("The subscription names no person (id, external_id or mdn).")
    list_id = _list_id(subscription)
    if not list_id:
        raise CallbackParseError("The subscription names no subscription list id.")
    remote_reason = _text(subscription.get("opt_out_reason")) or ""
    reason = remote_reason.lower() if remote_reason.lower() in OptOutReason.values else ""
    campaign = subscription.get("acquisition_campaign")
    return SubscriptionEvent(
        envelope=envelope,
        person=person,
        list_id=list_id,
        opt_in_date=parse_timestamp(subscription.get("opt_in_date"), "opt_in_date"),
        opt_out_date=parse_timestamp(subscription.get("opt_out_date"), "opt_out_date"),
        opt_out_reason=reason,
        remote_opt_out_reason=remote_reason,
        acquisition_campaign_id=(
            _first_text(campaign, "id", "api_key") if isinstance(campaign, Mapping) else None
        )
        or "",
    )


def _parse_person(envelope: CallbackEnvelope, payload: Mapping[str, Any]) -> PersonEvent:
    person = payload.get("person")
    if not isinstance(person, Mapping):
        raise CallbackParseError("A person callback without a person object.")
    ref = parse_person_ref(person)
    if ref.is_empty:
        raise CallbackParseError("The person has no id, external id or number.")
    mobile = _mobile_phone(person)
    mobile_given = "mobile_phone" in person or "mobile" in person
    raw_mdn = ""
    carrier_code = ""
    if isinstance(mobile, Mapping):
        raw_mdn = _text(mobile.get("mdn")) or ""
        carrier_code = _text(mobile.get("carrier_code")) or ""
    custom_fields = person.get("custom_fields")
    if custom_fields is not None and not isinstance(custom_fields, Mapping):
        raise CallbackParseError("custom_fields is not an object.")
    return PersonEvent(
        envelope=envelope,
        person=ref,
        mobile_phone_given=mobile_given,
        carrier_code=carrier_code,
        raw_mdn=raw_mdn,
        custom_fields=(
            {str(k): normalize_custom_field_value(v) for k, v in custom_fields.items()}
            if custom_fields is not None
            else None
        ),
        created_at=parse_timestamp(person.get("created_at"), "created_at"),
        updated_at=parse_timestamp(person.get("updated_at"), "updated_at"),
    )


def normalize_custom_field_value(value: Any) -> Any:
    """Multi-select values arrive as ``[{"id", "name", "option_key"}, ...]``: keep the keys."""
    if isinstance(value, list):
        keys = []
        for item in value:
            if isinstance(item, Mapping):
                key = _first_text(item, "option_key", "key", "name", "id")
            else:
                key = _text(item)
            if key and key not in keys:
                keys.append(key)
        return keys
    if isinstance(value, Mapping):
        return _first_text(value, "option_key", "key", "name", "id")
    return value


def _parse_participant(envelope: CallbackEnvelope, payload: Mapping[str, Any]) -> ParticipantEvent:
    participant = payload.get("participant")
    if not isinstance(participant, Mapping):
        raise CallbackParseError("An acquisition callback without a participant object.")
    person = participant.get("person")
    if not isinstance(person, Mapping):
        # Some payloads put the person's id straight on the participant.
        person = participant
    mobile = _mobile_phone(participant)
    if mobile is None and isinstance(person, Mapping):
        mobile = _mobile_phone(person)
    ref = parse_person_ref(person, mobile_phone=mobile)
    campaign = participant.get("acquisition_campaign")
    campaign_id = (
        _first_text(campaign, "id", "api_key", "acquisition_id")
        if isinstance(campaign, Mapping)
        else _text(campaign)
    )
    if not campaign_id:
        raise CallbackParseError("The participant names no acquisition campaign id.")
    if ref.is_empty:
        raise CallbackParseError("The participant names no person (id, external id or mdn).")
    remote_status = _text(participant.get("status")) or ""
    return ParticipantEvent(
        envelope=envelope,
        person=ref,
        campaign_id=campaign_id,
        status=ParticipantStatus.from_remote(remote_status),
        remote_status=remote_status,
        # The list may be named on the participant or beside it, at the top of the body.
        list_id=_list_id(participant) or _list_id(payload) or "",
        participation_date=parse_timestamp(
            participant.get("participation_date"), "participation_date"
        ),
        expire_date=parse_timestamp(participant.get("expire_date"), "expire_date"),
    )


def _parse_company_participant(
    envelope: CallbackEnvelope, payload: Mapping[str, Any]
) -> ParticipantEvent | UnknownEvent:
    """``company_participant_added`` / ``_changed``: Vibes documents these beside the
    acquisition callbacks but shows no body of their own. One that carries a participant
    of the usual shape (a person, a campaign, a status) is an acquisition event like any
    other; anything else is kept, ignored, with the reason, never refused."""
    participant = payload.get("participant")
    if not isinstance(participant, Mapping):
        return UnknownEvent(
            envelope=envelope,
            reason=f"{envelope.remote_type} without a participant object; nothing to apply.",
        )
    if not _text(participant.get("status")):
        return UnknownEvent(
            envelope=envelope,
            reason=f"{envelope.remote_type} whose participant has no status; nothing to apply.",
        )
    try:
        return _parse_participant(envelope, payload)
    except CallbackParseError as exc:
        return UnknownEvent(envelope=envelope, reason=f"{exc} Nothing to apply.")


def _parse_list(envelope: CallbackEnvelope, payload: Mapping[str, Any]) -> SubscriptionListEvent:
    subscription_list = payload.get("subscription_list")
    if not isinstance(subscription_list, Mapping):
        subscription_list = payload
        list_id = _first_text(payload, "subscription_list_id", "list_id")
    else:
        list_id = _first_text(subscription_list, "id", "subscription_list_id", "list_id")
    if not list_id:
        raise CallbackParseError("The subscription list has no id.")
    return SubscriptionListEvent(
        envelope=envelope, list_id=list_id, name=_text(subscription_list.get("name"))
    )


def _list_id(mapping: Mapping[str, Any]) -> str | None:
    subscription_list = mapping.get("subscription_list")
    if isinstance(subscription_list, Mapping):
        found = _first_text(subscription_list, "id", "subscription_list_id", "list_id")
        if found:
            return found
    return _first_text(mapping, "subscription_list_id", "list_id")


_PARSERS = {
    CallbackType.SUBSCRIPTION_ADDED: _parse_subscription,
    CallbackType.SUBSCRIPTION_REMOVED: _parse_subscription,
    CallbackType.PERSON_ADDED: _parse_person,
    CallbackType.PERSON_UPDATED: _parse_person,
    CallbackType.ACK_PARTICIPANT_ADDED: _parse_participant,
    CallbackType.ACK_PARTICIPANT_CHANGED: _parse_participant,
    CallbackType.COMPANY_PARTICIPANT_ADDED: _parse_company_participant,
    CallbackType.COMPANY_PARTICIPANT_CHANGED: _parse_company_participant,
    CallbackType.SUBSCRIPTION_LIST_ADDED: _parse_list,
    CallbackType.SUBSCRIPTION_LIST_UPDATED: _parse_list,
}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | Mapping | list):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _first_text(mapping: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        found = _text(mapping.get(key))
        if found:
            return found
    return None


def _int(value: Any) -> int | None:
    text = _text(value)
    if text is None:
        return None
    try:
        number = int(text)
    except ValueError:
        return None
    return number if 0 <= number < 2**31 else None


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"true", "1", "yes"}
