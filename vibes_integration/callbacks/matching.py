"""Finds the CRM person and list a callback is about, creating them when they are new.

A person is matched by external id (the CRM's own id, which Vibes stores), then by
Vibes' person key, then by mobile number. Someone who joined by texting a keyword or on
a Vibes landing page has no external id in Vibes, so the CRM gives them one of its own:
``vibes-<person key>`` (or ``vibes-mdn-<hash>`` when only a number is known). It is
deterministic, so the same person gets the same id whichever callback arrives first.

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
from vibes_integration.callbacks.erasure import erased_before_note
from vibes_integration.callbacks.events import PersonRef

GENERATED_ID_PREFIX = "vibes-"


def generated_external_id(ref: PersonRef) -> str:
    if ref.person_key:
        return f"{GENERATED_ID_PREFIX}{ref.person_key}"[:EXTERNAL_PERSON_ID_MAX_LENGTH]
    digest = hashlib.sha256(str(ref.mdn).encode()).hexdigest()[:20]
    return f"{GENERATED_ID_PREFIX}mdn-{digest}"


def person_find(ref: PersonRef) -> Person | None:
    """External id first (the CRM's own), then Vibes' person key, then the number."""
    if ref.external_person_id:
        person = selectors.person_get_by_external_id(ref.external_person_id)
        if person is not None:
            return person
    if ref.person_key:
        person = selectors.person_get_by_person_key(ref.person_key)
        if person is not None:
            return person
    if ref.mdn:
        return selectors.person_find_by_mdn(ref.mdn)
    return None


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


def identity_changes(person: Person, ref: PersonRef, notes: list[str]) -> dict[str, str]:
    """The person key and external id the CRM should adopt from Vibes for ``person``.

    Vibes owns the person key: a different one replaces ours. The external id is the
    CRM's: it is only replaced when ours is one we generated for a keyword joiner.
    """
    changes: dict[str, str] = {}
    if ref.person_key and person.person_key != ref.person_key:
        if Person.objects.filter(person_key=ref.person_key).exclude(pk=person.pk).exists():
            notes.append(f"Vibes person key {ref.person_key} belongs to another CRM person.")
        else:
            changes["person_key"] = ref.person_key
    external_id = ref.external_person_id
    if external_id and person.external_person_id != external_id:
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
    if not external_id or len(external_id) > EXTERNAL_PERSON_ID_MAX_LENGTH:
        external_id = generated_external_id(ref)
    if "mdn" not in fields:
        fields["mdn"] = usable_mdn(ref.mdn, person=None, notes=notes)
    erased_note = erased_before_note(mdn=fields.get("mdn"), email=fields.get("email"))
    if erased_note:
        notes.append(erased_note)
    return services.person_create(
        external_person_id=external_id,
        person_key=ref.person_key,
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
