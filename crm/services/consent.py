"""Appending to the consent ledger."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from crm import signals
from crm.choices import ConsentAction, Source
from crm.erasure_models import person_is_erased
from crm.models import ConsentEvent, Person, SubscriptionList
from crm.services.validation import (
    ConsentContext,
    check_reason_only_on_opt_out,
    check_source,
    clean_choice,
    clean_consent,
    clean_mdn_from,
)

CALLBACK_REFERENCE_PREFIX = "callback:"
#: The ledger lines that say where a person stands on a list, the request included.
_STANDING = [
    ConsentAction.OPT_IN_REQUESTED,
    ConsentAction.OPTED_IN,
    ConsentAction.OPTED_OUT,
    ConsentAction.OPT_IN_REJECTED,
]
Pair = tuple[int, int]

#: How far apart two Vibes reports of one opt-in can be dated. Vibes reports one Y twice
#: (``ack_participant_changed`` CONFIRMED and ``subscription_added``) at the same moment;
#: two opt-ins of one person and list are minutes apart at the least (an opt-out lies
#: between them), so reports further apart than this are two opt-ins, in whatever order
#: they arrive.
SAME_OPT_IN_WITHIN = datetime.timedelta(seconds=60)


def _vibes_event_id(reference: str) -> str:
    return (
        reference.removeprefix(CALLBACK_REFERENCE_PREFIX)
        if reference.startswith(CALLBACK_REFERENCE_PREFIX)
        else ""
    )


def reported_opt_in(event: ConsentEvent) -> bool:
    """An opt-in a Vibes event reports: Vibes may report the same one more than once."""
    return event.action == ConsentAction.OPTED_IN and bool(event.vibes_event_ids)


#: How many of a pair's newest standing lines ``settle_reported_opt_in`` looks through.
_RECENT_LINES = 4
_ENDS_AN_OPT_IN = {ConsentAction.OPTED_OUT, ConsentAction.OPT_IN_REJECTED}


def standing_lines(pairs: set[Pair]) -> dict[Pair, list[ConsentEvent]]:
    """The newest standing lines of each (person, list) pair, newest first, in one query."""
    if not pairs:
        return {}
    condition = Q()
    for person_pk, list_pk in pairs:
        condition |= Q(person_id=person_pk, subscription_list_id=list_pk)
    recent: dict[Pair, list[ConsentEvent]] = {}
    lines = ConsentEvent.objects.filter(condition, action__in=_STANDING).order_by(
        "-occurred_at", "-id"
    )
    for line in lines:
        kept = recent.setdefault((line.person_id, line.subscription_list_id), [])
        if len(kept) < _RECENT_LINES:
            kept.append(line)
    return recent


def _same_number(one: ConsentEvent, other: ConsentEvent) -> bool:
    return not (one.mdn and other.mdn and str(one.mdn) != str(other.mdn))


def _reported_before(event: ConsentEvent, recent: list[ConsentEvent]) -> ConsentEvent | None:
    """The line of ``recent`` that records the opt-in ``event`` reports again, if any.

    It is an opt-in of the same number dated within ``SAME_OPT_IN_WITHIN`` of the event,
    with no opt-out or refusal dated between the two. Dates are compared rather than the
    order of the lines: Vibes dates to the whole second, so the line of a Y that came
    within a second of the request can sort before the request's own line.
    """
    for line in recent:
        if line.action != ConsentAction.OPTED_IN or not _same_number(line, event):
            continue
        if abs(event.occurred_at - line.occurred_at) > SAME_OPT_IN_WITHIN:
            continue
        low, high = sorted((line.occurred_at, event.occurred_at))
        if not any(
            other.action in _ENDS_AN_OPT_IN and low < other.occurred_at < high for other in recent
        ):
            return line
    return None


def settle_reported_opt_in(
    event: ConsentEvent, recent: list[ConsentEvent] | None
) -> ConsentEvent | None:
    """Fit a Vibes-reported opt-in to the ledger: one opt-in is one line.

    Vibes reports one confirmed opt-in twice (``ack_participant_changed`` CONFIRMED and
    ``subscription_added``, in either order). When ``recent`` (the pair's newest
    standing lines, newest first) holds the line of the opt-in this event reports again
    (``_reported_before``), the event's id is added to that line, which is returned, and
    nothing new is written. When the newest line is the request the subscriber made, the
    new line keeps the disclosure shown then, so that it proves on its own what the
    person agreed to. Otherwise (a keyword, a landing page) nothing changes and None is
    returned.
    """
    if not recent or not reported_opt_in(event):
        return None
    latest = _reported_before(event, recent)
    if latest is None:
        newest = recent[0]
        if newest.action == ConsentAction.OPT_IN_REQUESTED and _same_number(newest, event):
            event.disclosure_text = event.disclosure_text or newest.disclosure_text
        return None
    ids = list(latest.vibes_event_ids or [])
    new_ids = [i for i in event.vibes_event_ids if i not in ids]
    if new_ids:
        ids = sorted({*ids, *new_ids})
        earliest = {}
        if event.occurred_at < latest.occurred_at:
            earliest = {"occurred_at": event.occurred_at, "reference": event.reference}
        ConsentEvent.objects.vibes_event_ids_extend(pk=latest.pk, event_ids=ids, **earliest)
        latest.vibes_event_ids = ids
        for name, value in earliest.items():
            setattr(latest, name, value)
    return latest


def requested_disclosure(*, person: Person, subscription_list: SubscriptionList, mdn: str) -> str:
    """The disclosure shown when the person asked for this number to join this list.

    A Y confirms that request: the opted-in line keeps what was shown then, so that it
    proves on its own what the person agreed to, also when other lines (the old number's
    opt-outs of a change of number) were written between the request and the Y.
    """
    requested = (
        ConsentEvent.objects.filter(
            person=person,
            subscription_list=subscription_list,
            action=ConsentAction.OPT_IN_REQUESTED,
            mdn=mdn,
        )
        .order_by("-occurred_at", "-id")
        .values_list("disclosure_text", flat=True)
        .first()
    )
    return requested or ""


def append_consent_event(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    action: ConsentAction,
    source: Source,
    consent: ConsentContext | None,
    mdn: str | None = None,
    opt_out_reason: str = "",
) -> ConsentEvent:
    event = _consent_event(
        person=person,
        subscription_list=subscription_list,
        action=action,
        source=source,
        consent=consent,
        mdn=mdn,
        opt_out_reason=opt_out_reason,
    )
    return _saved(event, source)


def _saved(event: ConsentEvent, source: Source) -> ConsentEvent:
    """Write the line, unless it reports again an opt-in the ledger holds already."""
    if reported_opt_in(event):
        pair = (event.person.pk, event.subscription_list.pk)
        existing = settle_reported_opt_in(event, standing_lines({pair}).get(pair))
        if existing is not None:
            return existing
    event.save()
    signals.consent_recorded.send(sender=ConsentEvent, consent_event=event, source=source)
    return event


def _consent_event(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    action: ConsentAction,
    source: Source,
    consent: ConsentContext | None,
    mdn: str | None,
    opt_out_reason: str,
) -> ConsentEvent:
    """The ledger line, validated and not yet saved."""
    consent = clean_consent(consent)
    disclosure = consent.disclosure_text
    if disclosure is None:
        disclosure = (
            subscription_list.disclosure if action == ConsentAction.OPT_IN_REQUESTED else ""
        )
    if person_is_erased(person):
        # The ledger keeps proving consent after an erasure, without personal details.
        mdn, consent = (
            None,
            ConsentContext(
                occurred_at=consent.occurred_at,
                disclosure_text=disclosure,
                reference=consent.reference,
            ),
        )
    event = ConsentEvent(
        person=person,
        subscription_list=subscription_list,
        action=action,
        source=source,
        occurred_at=consent.occurred_at or timezone.now(),
        mdn=clean_mdn_from(source, mdn) or _stored_mdn(person),
        ip_address=consent.ip_address or None,
        user_agent=(consent.user_agent or "")[:2000],
        disclosure_text=disclosure,
        opt_out_reason=opt_out_reason or "",
        reference=(consent.reference or "")[:200],
    )
    event_id = _vibes_event_id(event.reference)
    event.vibes_event_ids = [event_id] if event_id else []
    # The ledger's one constraint (a known action) is the field's choices, which
    # full_clean checks anyway, and the database enforces it too: validating it again
    # would cost a query (and a savepoint) for every line of the ledger. The number is
    # not validated again either: ``clean_mdn_from`` just did, or it is the person's stored
    # number, which the line records as it is.
    event.full_clean(exclude=["person", "subscription_list", "mdn"], validate_constraints=False)
    return event


def _stored_mdn(person: Person) -> PhoneNumber | str:
    """The person's number as the field holds it: passed on as it is, the line's field
    formats it once when written instead of parsing text back into a number."""
    return person.mdn if isinstance(person.mdn, PhoneNumber) else (person.mdn or "")


def consent_record(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    action: ConsentAction,
    source: Source,
    consent: ConsentContext | None = None,
    mdn: str | None = None,
    opt_out_reason: str = "",
) -> ConsentEvent:
    """Append one event to the ledger without changing a subscription (imports, notes).

    The line is built and validated before the transaction; it and what its signal writes
    go into the caller's transaction when there is one, without a savepoint (two
    statements saved for each callback that reports a consent): a failed write rolls the
    caller's whole transaction back.
    """
    action = clean_choice(ConsentAction, action, "action", _("Unknown consent action."))
    check_reason_only_on_opt_out(opt_out_reason, opting_out=action == ConsentAction.OPTED_OUT)
    source = check_source(source)
    event = _consent_event(
        person=person,
        subscription_list=subscription_list,
        action=action,
        source=source,
        consent=consent,
        mdn=mdn,
        opt_out_reason=opt_out_reason,
    )
    with transaction.atomic(savepoint=False):
        return _saved(event, source)
