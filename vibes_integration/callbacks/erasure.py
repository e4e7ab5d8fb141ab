"""Callbacks about erased persons: applied, but not kept with their personal data.

A callback can still arrive about a person after their erasure (Vibes' own
``subscription_removed`` for the lists the erasure ended, a late ``person_updated``).
``crm.services`` applies its facts to the pseudonymised person without restoring anything
(see docs/privacy.md); here the event's stored body, parsed payload and the identifiers
copied from it are blanked, so that the callback log does not hold again what the
erasure removed. A callback about a new person whose number or email an erased person
had is noted as such: the keyed hashes recognise it, and it stays a fresh person.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm.erasure_hashing import email_hash, mdn_hash
from crm.erasure_models import ERASED_ID_PREFIX, ErasureRequest
from crm.erasure_scrubbing import CALLBACK_EVENT_BLANKS
from vibes_integration.callbacks.models import CallbackEvent

ERASED_NOTE = "The person was erased: this event's body and identifiers are not kept."


def callback_events_of_erased_scrub(callback_event_ids: Iterable[int]) -> int:
    """Blank the personal content of those events that name an erased person."""
    events = CallbackEvent.objects.filter(
        pk__in=list(callback_event_ids),
        person__external_person_id__startswith=ERASED_ID_PREFIX,
    )
    return events.update(**CALLBACK_EVENT_BLANKS, notes=[ERASED_NOTE])


def erased_before_note(*, mdn: object = None, email: object = None) -> str:
    """A note when the number or email belonged to an erased person; empty otherwise."""
    hashes = [value for value in (mdn_hash(mdn),) if value]
    emails = [value for value in (email_hash(email),) if value]
    if not hashes and not emails:
        return ""
    request = (ErasureRequest.objects.filter(mdn_hash__in=hashes).first() if hashes else None) or (
        ErasureRequest.objects.filter(email_hash__in=emails).first() if emails else None
    )
    if request is None:
        return ""
    return (
        f"This number or email belonged to a person erased on {request.received_at:%Y-%m-%d} "
        f"(erasure request {request.pk}); this is a new person, linked only by the hash."
    )
