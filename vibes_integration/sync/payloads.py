"""What Vibes is sent about a person: the CRM's record in Vibes' Person API shape.

Vibes keeps names and email as custom fields; ``VIBES_SYNC_PERSON_FIELDS`` maps the
Person attributes to them (default: ``first_name``, ``last_name`` and ``email`` to custom
fields of the same keys, as the demo configuration defines them). Every custom field
marked "synced to Vibes" is sent too; a value the CRM does not have is sent as ``null``
so that a value cleared in the CRM is cleared in Vibes.

The mobile number is never changed through Update Person: Vibes refuses (409), and a
new number must be confirmed by its owner through the web opt-in. Update Person carries
``{"mdn": null}`` only to remove a number; Add Person carries the CRM's number, so that
Vibes merges the new record into an existing person of that number or refuses (409).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

from crm.choices import CustomFieldType
from crm.custom_fields import clean_custom_field_value
from crm.models import CustomField, Person
from prefcenter.conf import setting

JSONDict = dict[str, Any]


def synced_custom_fields() -> dict[str, CustomField]:
    """The custom field definitions Vibes receives, by key."""
    return {field.key: field for field in CustomField.objects.filter(synced_to_vibes=True)}


def to_vibes_value(field: CustomField, value: Any) -> Any:
    """A stored CRM value in the form Vibes takes (dates as midnight UTC timestamps)."""
    if value is None or value == "" or value == []:
        return None
    if field.field_type == CustomFieldType.DATE:
        return f"{str(value)[:10]}T00:00:00Z"
    return value


def from_vibes_value(field: CustomField, value: Any) -> Any:
    """A Vibes value in the form the CRM stores, or None when it holds nothing usable."""
    if value is None or value == "" or value == []:
        return None
    try:
        return clean_custom_field_value(field, value)
    except ValidationError:  # a value the CRM's definition does not accept: treat as absent
        return None


def person_custom_fields(
    person: Person,
    definitions: Mapping[str, CustomField],
    field_map: Mapping[str, str],
) -> JSONDict:
    values: JSONDict = {
        key: to_vibes_value(field, person.custom_fields.get(key))
        for key, field in definitions.items()
    }
    for attribute, key in field_map.items():
        values[key] = getattr(person, attribute) or None
    return values


def update_person_payload(
    person: Person,
    *,
    definitions: Mapping[str, CustomField],
    field_map: Mapping[str, str] | None = None,
    remove_mdn: bool = False,
) -> JSONDict:
    """The Update Person body: names, synced custom fields, and a number removal."""
    payload: JSONDict = {
        "external_person_id": person.external_person_id,
        "custom_fields": person_custom_fields(
            person, definitions, field_map or setting("VIBES_SYNC_PERSON_FIELDS")
        ),
    }
    if remove_mdn and not person.mdn:
        payload["mobile_phone"] = {"mdn": None}
    return payload


def add_person_payload(
    person: Person,
    *,
    definitions: Mapping[str, CustomField],
    field_map: Mapping[str, str] | None = None,
) -> JSONDict:
    """The Add Person body: as Update Person, plus the CRM's confirmed number if any."""
    payload = update_person_payload(person, definitions=definitions, field_map=field_map)
    if person.mdn:
        phone: JSONDict = {"mdn": str(person.mdn)}
        if person.carrier_code:
            phone["carrier_code"] = person.carrier_code
        payload["mobile_phone"] = phone
    return payload


def vibes_mdn(vibes_person: Mapping[str, Any] | None) -> str | None:
    """The number Vibes holds for a person, from any of its person shapes."""
    if not vibes_person:
        return None
    phone = vibes_person.get("mobile_phone")
    if isinstance(phone, Mapping):
        return phone.get("mdn") or None
    return vibes_person.get("mdn") or None


def vibes_person_key(vibes_person: Mapping[str, Any] | None) -> str | None:
    """The person key of a Vibes person body; never its ``person_id`` or ``id`` (the
    deprecated numeric id, a different value). None when the body has none (Update and
    Add Person may answer without a body)."""
    if not vibes_person:
        return None
    key = vibes_person.get("person_key")
    return str(key) if key else None


def parse_vibes_datetime(value: Any) -> datetime.datetime | None:
    """Vibes' timestamps in any of the spellings it uses, as an aware datetime."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed
