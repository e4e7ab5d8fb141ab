"""Finds the CRM person and list a callback is about, creating them when they are new.

Vibes names a person in up to four ways, and only one of them is Vibes' identity of the
person: ``person_key``. The external id is the CRM's own id (Vibes holds it only once the
CRM gave it); ``id`` / ``person_id`` is Vibes' deprecated numeric id, a different value
from the key, kept apart in ``Person.vibes_person_id`` and never stored as the key. A
person is matched by person key, then by external id, then (a callback that carries only
the legacy id) by the stored person id, and last by number, never against a person key
the CRM already holds for someone else: two callbacks about one Vibes person always end
on one CRM person.

Someone who joined by texting a keyword or on a Vibes landing page has no external id in
Vibes, so the CRM gives them one of its own: ``vibes-<person key>`` (``vibes-id-<person
id>`` or ``vibes-mdn-<hash>`` when only those are known). It is deterministic, so the
same person gets the same id whichever callback arrives first. Vibes does not know it
(``external_id_in_vibes`` stays False), so the sync names them by person key.

Every write goes through ``crm.services`` with ``source=Source.VIBES``, so nothing the
receiver learns is sent back to Vibes.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from crm import selectors, services
from crm.choices import Source
from crm.models import EXTERNAL_PERSON_ID_MAX_LENGTH, Person, SubscriptionList
from crm.phone import vibes_mdn
from vibes_integration.callbacks.events import PersonRef

GENERATED_ID_PREFIX = "vibes-"
VIBES_ID_MAX_LENGTH = 64


def generated_external_id(ref: PersonRef) -> str:
    if ref.person_key:
        return f"{GENERATED_ID_PREFIX}{ref.person_key}"[:EXTERNAL_PERSON_ID_MAX_LENGTH]
    if ref.person_id and not ref.mdn:
        return f"{GENERATED_ID_PREFIX}id-{ref.person_id}"[:EXTERNAL_PERSON_ID_MAX_LENGTH]
    digest = hashlib.sha256(str(ref.mdn).encode()).hexdigest()[:20]
    return f"{GENERATED_ID_PREFIX}mdn-{digest}"


def _usable_id(value: str | None) -> str | None:
    return value if value and len(value) <= VIBES_ID_MAX_LENGTH else None


def person_find(ref: PersonRef) -> Person | None:
    """Person key first (Vibes' identity), then external id, then the legacy person id,
    then the number (only a person whose Vibes ids cannot contradict the callback's).

    The key and the external id always name one Vibes record, and so does the person id:
    a match by any of them is the person even when the CRM holds another key for them
    (an older reading stored the person id as the key; such a key is found here too and
    then replaced). A number alone is weak (numbers are recycled): it never matches a
    person Vibes knows under another key or id.
    """
    person_key = _usable_id(ref.person_key)
    if person_key:
        person = selectors.person_get_by_person_key(person_key)
        if person is not None:
            return person
    if ref.external_person_id:
        person = selectors.person_get_by_external_id(ref.external_person_id)
        if person is not None:
            return person
    person_id = _usable_id(ref.person_id)
    if person_id:
        person = selectors.person_get_by_vibes_person_id(person_id)
        if person is None and person_key:
            person = selectors.person_get_by_person_key(person_id)
        if person is not None:
            return person
    if ref.mdn:
        person = selectors.person_find_by_mdn(ref.mdn)
        if person is not None and not _contradicts(person, ref):
            return person
    return None


def _contradicts(person: Person, ref: PersonRef) -> bool:
    """Whether ``person`` is known to be another Vibes person than the one ``ref`` names."""
    if ref.person_key and person.person_key and person.person_key != ref.person_key:
        return True
    return bool(
        ref.person_id and person.vibes_person_id and person.vibes_person_id != ref.person_id
    )


def usable_mdn(mdn: str | None, *, person: Person | None, notes: list[str]) -> str | None:
    """The number if the CRM can store it for ``person``; otherwise None and a note."""
    if not mdn:
        return None
    recorded = vibes_mdn(mdn)  # Vibes holds it: recorded as it is, never validated
    if recorded is None:
        notes.append(f"Number {mdn} is not a phone number; not stored.")
        return None
    mdn = recorded
    owner = Person.objects.filter(mdn=mdn)
    if person is not None:
        owner = owner.exclude(pk=person.pk)
    if owner.exists():
        notes.append(f"Number {mdn} belongs to another CRM person; not moved.")
        return None
    return mdn


def identity_changes(person: Person, ref: PersonRef, notes: list[str]) -> dict[str, object]:
    """The Vibes ids the CRM should adopt from Vibes for ``person``.

    Vibes owns the person key and the person id: a different one replaces ours. The
    external id is the CRM's: Vibes reporting ours means Vibes knows it; Vibes' own
    replaces ours only when ours is one we generated for a keyword joiner.
    """
    changes: dict[str, object] = {}
    person_key = _usable_id(ref.person_key)
    if person_key and person.person_key != person_key:
        if Person.objects.filter(person_key=person_key).exclude(pk=person.pk).exists():
            notes.append(f"Vibes person key {person_key} belongs to another CRM person.")
        else:
            changes["person_key"] = person_key
    person_id = _usable_id(ref.person_id)
    if person_id and person.vibes_person_id != person_id:
        if Person.objects.filter(vibes_person_id=person_id).exclude(pk=person.pk).exists():
            notes.append(f"Vibes person id {person_id} belongs to another CRM person.")
        else:
            changes["vibes_person_id"] = person_id
    external_id = ref.external_person_id
    if external_id and person.external_person_id == external_id:
        if not person.external_id_in_vibes:
            changes["external_id_in_vibes"] = True
    elif external_id:
        taken = Person.objects.filter(external_person_id=external_id).exclude(pk=person.pk)
        if not person.external_person_id.startswith(GENERATED_ID_PREFIX):
            notes.append(
                f"Vibes has external id {external_id} for CRM person "
                f"{person.external_person_id}; kept the CRM's."
            )
        elif len(external_id) > EXTERNAL_PERSON_ID_MAX_LENGTH or taken.exists():
            notes.append(f"External id {external_id} cannot be adopted (too long or taken).")
        else:
            changes["external_person_id"] = external_id
            changes["external_id_in_vibes"] = True
    return changes


def person_resolve(ref: PersonRef, notes: list[str]) -> tuple[Person, bool]:
    """The CRM person ``ref`` names, created if unknown, with Vibes' ids adopted."""
    person = person_find(ref)
    if person is None:
        try:
            return person_create_from(ref, notes), True
        except ValidationError:
            # Another worker created them a moment ago: use theirs.
            person = person_find(ref)
            if person is None:
                raise
    changes = identity_changes(person, ref, notes)
    if changes:
        person = services.person_update(person=person, source=Source.VIBES, **changes).person
    return person, False


def person_create_from(ref: PersonRef, notes: list[str], **fields) -> Person:
    external_id = ref.external_person_id
    reported = bool(external_id) and len(external_id) <= EXTERNAL_PERSON_ID_MAX_LENGTH
    if not reported:
        external_id = generated_external_id(ref)
    if "mdn" not in fields:
        fields["mdn"] = usable_mdn(ref.mdn, person=None, notes=notes)
    for name, value in (("person key", ref.person_key), ("person id", ref.person_id)):
        if value and not _usable_id(value):
            notes.append(f"Vibes {name} {value[:80]!r} is too long to store; not stored.")
    return services.person_create(
        external_person_id=external_id,
        person_key=_usable_id(ref.person_key),
        vibes_person_id=_usable_id(ref.person_id),
        external_id_in_vibes=reported,
        source=Source.VIBES,
        **fields,
    )


def subscription_list_resolve(list_id: str) -> tuple[SubscriptionList, bool]:
    """The list with Vibes id ``list_id``; a new one is created hidden from subscribers
    (it needs a disclosure from staff before the preference center offers it)."""
    subscription_list = SubscriptionList.objects.filter(list_id=list_id).first()
    if subscription_list is not None:
        return subscription_list, False
    try:
        return services.subscription_list_upsert(list_id=list_id, source=Source.VIBES)
    except IntegrityError:
        return SubscriptionList.objects.get(list_id=list_id), False
