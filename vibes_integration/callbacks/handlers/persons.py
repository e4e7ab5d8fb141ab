"""``person_added`` / ``person_updated``: a person's complete current state in Vibes.

The person is matched as ``matching`` says (person key, external id, legacy person id,
number) and created when unknown. What Vibes sends replaces the CRM's values, with three
exceptions that keep the CRM's data safe:

- an event older than the newest person event applied is stale and changes nothing;
- a field the CRM changed itself after the event happened keeps the CRM's value (the
  outbound sync is sending it to Vibes);
- a value the CRM cannot hold (a custom field it does not define, a value its definition
  refuses, a number another person has) is skipped and noted on the callback event,
  never a failure: the rest of the event still applies.

Vibes keeps first name, last name and email as custom fields; the CRM keeps them as
person columns (``PERSON_COLUMNS``). Those columns change only when Vibes sends them.
Custom fields the CRM defines and syncs to Vibes but the body leaves out are cleared, as
the body is the complete state; fields not synced to Vibes (and required ones) are never
cleared.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from crm import selectors, services
from crm.choices import Source
from crm.custom_fields import clean_custom_field_value
from crm.models import Person
from vibes_integration.callbacks.events import PersonEvent
from vibes_integration.callbacks.handlers.base import HandlerContext, HandlerResult
from vibes_integration.callbacks.matching import (
    identity_changes,
    person_create_from,
    person_find,
    usable_mdn,
)
from vibes_integration.callbacks.models import CallbackStatus, CallbackWatermark
from vibes_integration.callbacks.watermarks import (
    fields_changed_locally_since,
    is_stale,
    person_subject,
    watermark_advance,
    watermark_lock,
)

PERSON_COLUMNS = ("first_name", "last_name", "email")
"""Vibes custom field keys that the CRM stores as columns of ``Person``."""

_NAME_MAX_LENGTH = 150


def handle_person(event: PersonEvent, context: HandlerContext) -> HandlerResult:
    change = selectors.number_change_of_vibes_person(event.person.person_key, event.person.mdn)
    if change is not None:
        context.notes.append(
            "This Vibes person belongs to a change of number (the old number's, or the new "
            "number's before its Y); the CRM person is not changed by it."
        )
        return HandlerResult(status=CallbackStatus.PROCESSED, person=change.person)
    person = person_find(event.person)
    if person is None:
        values = person_values(event, None, context.notes)
        try:
            person = _create(event, values, context)
        except ValidationError:
            # Created by another worker in the meantime: update theirs instead.
            person = person_find(event.person)
            if person is None:
                raise
        else:
            # A person created in this transaction has no watermark anyone else could hold.
            CallbackWatermark.objects.create(
                subject=person_subject(person.pk),
                event_date=context.event_date,
                callback_event=context.callback_event,
            )
            return HandlerResult(status=CallbackStatus.PROCESSED, person=person)

    watermark = watermark_lock(person_subject(person.pk))
    if is_stale(watermark, context.event_date):
        return HandlerResult(status=CallbackStatus.STALE, person=person)
    values = person_values(event, person, context.notes)
    _keep_newer_local_changes(
        values, fields_changed_locally_since(watermark, context.event_date), context.notes
    )
    changes = identity_changes(person, event.person, context.notes)
    person = services.person_update(person=person, source=Source.VIBES, **changes, **values).person
    watermark_advance(watermark, context.event_date, context.callback_event)
    return HandlerResult(status=CallbackStatus.PROCESSED, person=person)


def _create(event: PersonEvent, values: dict[str, Any], context: HandlerContext) -> Person:
    values = dict(values)
    custom_fields = values.pop("custom_fields", None) or {}
    values["custom_fields"] = {k: v for k, v in custom_fields.items() if v is not None}
    if "mdn" not in values:
        values["mdn"] = None
    return person_create_from(event.person, context.notes, **values)


def person_values(event: PersonEvent, person: Person | None, notes: list[str]) -> dict[str, Any]:
    """The ``person_update`` arguments that event describes, minus what the CRM cannot hold."""
    values: dict[str, Any] = {}
    if event.mobile_phone_given:
        if event.person.mdn:
            mdn = usable_mdn(event.person.mdn, person=person, notes=notes)
            if mdn is not None:
                values["mdn"] = mdn
        elif event.raw_mdn:
            notes.append(f"Number {event.raw_mdn!r} is not a phone number; not stored.")
        else:
            values["mdn"] = None
        values["carrier_code"] = event.carrier_code[:16]
    if event.custom_fields is not None:
        values.update(_column_values(event.custom_fields, notes))
        values["custom_fields"] = _custom_field_values(event.custom_fields, notes)
    return values


def _column_values(custom_fields: dict[str, Any], notes: list[str]) -> dict[str, str]:
    values = {}
    for key in PERSON_COLUMNS:
        if key not in custom_fields:
            continue
        raw = custom_fields[key]
        text = "" if raw is None else str(raw).strip()
        if len(text) > _NAME_MAX_LENGTH:
            notes.append(f"{key} is longer than {_NAME_MAX_LENGTH} characters; not stored.")
            continue
        if key == "email" and text:
            try:
                validate_email(text)
            except ValidationError:
                notes.append(f"email {text!r} is not an email address; not stored.")
                continue
        values[key] = text
    return values


def _custom_field_values(custom_fields: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    definitions = selectors.custom_field_definitions()
    values: dict[str, Any] = {}
    unknown = []
    for key, raw in custom_fields.items():
        if key in PERSON_COLUMNS:
            continue
        field = definitions.get(key)
        if field is None:
            unknown.append(key)
            continue
        try:
            values[key] = clean_custom_field_value(field, raw)
        except ValidationError as exc:
            notes.append(f"Custom field {key}: {' '.join(exc.messages)} Not stored.")
    if unknown:
        notes.append(
            f"Custom fields the CRM does not define, ignored: {', '.join(sorted(unknown))}."
        )
    for key, field in definitions.items():
        if field.synced_to_vibes and not field.required and key not in custom_fields:
            values[key] = None
    return values


def _keep_newer_local_changes(values: dict[str, Any], newer: set[str], notes: list[str]) -> None:
    kept = []
    for name in sorted(newer):
        if name.startswith("custom_fields."):
            key = name.removeprefix("custom_fields.")
            if key in values.get("custom_fields", {}):
                values["custom_fields"].pop(key)
                kept.append(name)
        elif name in values:
            values.pop(name)
            kept.append(name)
    if kept:
        notes.append(
            "Kept the CRM's newer value (changed after this event happened): "
            + ", ".join(kept)
            + "."
        )
