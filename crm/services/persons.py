"""Creating and changing persons and their custom field values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm import signals
from crm.choices import Source
from crm.custom_fields import clean_custom_field_values
from crm.erasure_models import person_is_erased
from crm.models import CustomField, Person, new_link_secret
from crm.services.validation import (
    UNSET,
    check_source,
    clean_email,
    clean_external_person_id,
    clean_mdn_from,
    clean_name,
)


@dataclass(frozen=True)
class PersonChange:
    person: Person
    created: bool
    changed_fields: frozenset[str] = field(default_factory=frozenset)


def _clean_custom_field_input(values: Any) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ValidationError({"custom_fields": _("Give custom field values by key.")})
    return clean_custom_field_values(_custom_field_definitions(), values)


def _custom_field_definitions() -> dict[str, CustomField]:
    return {f.key: f for f in CustomField.objects.all()}


def _check_unique(person: Person | None, **lookups: Any) -> None:
    for name, value in lookups.items():
        if value is None:
            continue
        clash = Person.objects.filter(**{name: value})
        if person is not None and person.pk:
            clash = clash.exclude(pk=person.pk)
        if clash.exists():
            raise ValidationError(
                {
                    name: _("Another person already has this %(field)s.")
                    % {"field": Person._meta.get_field(name).verbose_name}
                },
                code="unique",
            )


def _save_person(person: Person, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            person.save(**kwargs)
    except IntegrityError as exc:
        # Another transaction took one of the unique values between our check and the
        # write: look again so that the error names the field.
        _check_unique(
            None if person._state.adding else person,
            external_person_id=person.external_person_id,
            person_key=person.person_key,
            vibes_person_id=person.vibes_person_id,
            mdn=str(person.mdn) if person.mdn else None,
        )
        raise ValidationError(
            _("Another person already has this external id, Vibes person key or number."),
            code="unique",
        ) from exc


@transaction.atomic
def person_create(
    *,
    external_person_id: str,
    source: Source,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    mdn: str | None = None,
    carrier_code: str = "",
    person_key: str | None = None,
    vibes_person_id: str | None = None,
    external_id_in_vibes: bool = False,
    custom_fields: Mapping[str, Any] | None = None,
) -> Person:
    """Create a person. ``person_key`` and ``vibes_person_id`` are Vibes' two ids (the key,
    and the deprecated numeric id): different values, never one in place of the other.
    ``external_id_in_vibes``: Vibes already holds ``external_person_id`` for them."""
    source = check_source(source)
    person = Person(
        external_person_id=clean_external_person_id(external_person_id),
        first_name=clean_name(first_name, "first_name"),
        last_name=clean_name(last_name, "last_name"),
        email=clean_email(email),
        mdn=clean_mdn_from(source, mdn),
        carrier_code=str(carrier_code or "")[:16],
        person_key=_vibes_id(person_key),
        vibes_person_id=_vibes_id(vibes_person_id),
        external_id_in_vibes=bool(external_id_in_vibes),
    )
    values = _clean_custom_field_input(custom_fields or {})
    person.custom_fields = {k: v for k, v in values.items() if v is not None}
    _check_unique(
        None,
        external_person_id=person.external_person_id,
        person_key=person.person_key,
        vibes_person_id=person.vibes_person_id,
        mdn=person.mdn,
    )
    _save_person(person)
    signals.person_changed.send(
        sender=Person,
        person=person,
        created=True,
        changed_fields=frozenset(_changed_names(person, created=True)),
        source=source,
        previous_mdn=None,
    )
    return person


def _vibes_id(value: Any) -> str | None:
    return (str(value).strip() or None) if value not in (None, "") else None


def _changed_names(person: Person, *, created: bool) -> set[str]:
    names = {
        "external_person_id",
        "first_name",
        "last_name",
        "email",
        "mdn",
        "carrier_code",
        "person_key",
        "vibes_person_id",
        "external_id_in_vibes",
    }
    changed = {n for n in names if getattr(person, n)}
    changed.update(f"custom_fields.{key}" for key in person.custom_fields)
    return changed


@transaction.atomic
def person_update(
    *,
    person: Person,
    source: Source,
    external_person_id: str = UNSET,
    first_name: str = UNSET,
    last_name: str = UNSET,
    email: str = UNSET,
    mdn: str | None = UNSET,
    carrier_code: str = UNSET,
    person_key: str | None = UNSET,
    vibes_person_id: str | None = UNSET,
    external_id_in_vibes: bool = UNSET,
    custom_fields: Mapping[str, Any] = UNSET,
) -> PersonChange:
    """Change the given fields of ``person``; ``custom_fields`` merges (None clears a key).

    Only the fields whose value really changes are written and announced, so an update
    that changes nothing sends no signal and causes no call to Vibes. A new external id is
    one Vibes does not know yet (``external_id_in_vibes`` turns False) unless the caller
    says Vibes reported it.
    """
    source = check_source(source)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person_is_erased(person):
        # Nothing brings an erased person's data back (docs/privacy.md).
        return PersonChange(person=person, created=False)
    given = {
        "external_person_id": external_person_id,
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "mdn": mdn,
        "carrier_code": carrier_code,
        "person_key": person_key,
        "vibes_person_id": vibes_person_id,
        "external_id_in_vibes": external_id_in_vibes,
    }
    new = _cleaned_fields(person, source, {k: v for k, v in given.items() if v is not UNSET})
    previous_mdn = str(person.mdn) if person.mdn else None
    changed = _changed_fields(person, new)
    if custom_fields is not UNSET:
        changed |= _merge_custom_fields(person, custom_fields)
    if not changed:
        return PersonChange(person=person, created=False)

    _check_unique(person, **{n: new[n] for n in _UNIQUE_FIELDS if n in changed})
    for name in changed:
        if not name.startswith("custom_fields."):
            setattr(person, name, new[name])
    _save_person(person)
    return _announced_change(person, frozenset(changed), source, previous_mdn)


def _announced_change(
    person: Person, changed: frozenset[str], source: Source, previous_mdn: str | None
) -> PersonChange:
    """Tell the other parts (the sync, webhooks) what changed, in the update's transaction."""
    signals.person_changed.send(
        sender=Person,
        person=person,
        created=False,
        changed_fields=changed,
        source=source,
        previous_mdn=previous_mdn,
    )
    return PersonChange(person=person, created=False, changed_fields=changed)


_UNIQUE_FIELDS = ("external_person_id", "person_key", "vibes_person_id", "mdn")


def _cleaned_fields(person: Person, source: Source, given: Mapping[str, Any]) -> dict[str, Any]:
    """The values given, cleaned, in the order of ``person_update``'s arguments; a new
    external id is one Vibes does not know yet unless the caller says otherwise."""
    new: dict[str, Any] = {}
    if "external_person_id" in given:
        new["external_person_id"] = clean_external_person_id(given["external_person_id"])
    if "first_name" in given:
        new["first_name"] = clean_name(given["first_name"], "first_name")
    if "last_name" in given:
        new["last_name"] = clean_name(given["last_name"], "last_name")
    if "email" in given:
        new["email"] = clean_email(given["email"])
    if "mdn" in given:
        new["mdn"] = clean_mdn_from(source, given["mdn"])
    if "carrier_code" in given:
        new["carrier_code"] = str(given["carrier_code"] or "")[:16]
    if "person_key" in given:
        new["person_key"] = _vibes_id(given["person_key"])
    if "vibes_person_id" in given:
        new["vibes_person_id"] = _vibes_id(given["vibes_person_id"])
    if "external_id_in_vibes" in given:
        new["external_id_in_vibes"] = bool(given["external_id_in_vibes"])
    elif "external_person_id" in new and new["external_person_id"] != person.external_person_id:
        new["external_id_in_vibes"] = False
    return new


def _changed_fields(person: Person, new: Mapping[str, Any]) -> set[str]:
    """The names of the fields whose new value differs from the person's (a number
    compared as text)."""
    changed: set[str] = set()
    for name, value in new.items():
        current = getattr(person, name)
        if name == "mdn":
            current = str(current) if current else None
        if current != value:
            changed.add(name)
    return changed


def _merge_custom_fields(person: Person, custom_fields: Mapping[str, Any]) -> set[str]:
    """Merge the cleaned values into the person's custom fields (None clears a key);
    answers ``custom_fields.<key>`` for each key that changed."""
    values = _clean_custom_field_input(custom_fields)
    changed: set[str] = set()
    merged = dict(person.custom_fields)
    for key, value in values.items():
        if value is None:
            if key in merged:
                merged.pop(key)
                changed.add(f"custom_fields.{key}")
        elif merged.get(key) != value:
            merged[key] = value
            changed.add(f"custom_fields.{key}")
    person.custom_fields = merged
    return changed


@transaction.atomic
def person_set_custom_fields(
    *, person: Person, values: Mapping[str, Any], source: Source
) -> PersonChange:
    return person_update(person=person, source=source, custom_fields=values)


@transaction.atomic
def person_rotate_link_secret(*, person: Person) -> Person:
    """Revokes every preference-center link issued for ``person`` so far."""
    Person.objects.filter(pk=person.pk).update(link_secret=new_link_secret())
    person.refresh_from_db(fields=["link_secret"])
    return person
