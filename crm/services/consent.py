"""Appending to the consent ledger."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from crm import signals
from crm.choices import ConsentAction, Source
from crm.models import ConsentEvent, Person, SubscriptionList
from crm.services.validation import ConsentContext, check_source, clean_consent, clean_mdn

CALLBACK_REFERENCE_PREFIX = "callback:"
#: The ledger lines that settle where a person stands on a list; an opt-in request does not.
_DECISIVE = [ConsentAction.OPTED_IN, ConsentAction.OPTED_OUT, ConsentAction.OPT_IN_REJECTED]


def _vibes_event_id(reference: str) -> str:
    return (
        reference.removeprefix(CALLBACK_REFERENCE_PREFIX)
        if reference.startswith(CALLBACK_REFERENCE_PREFIX)
        else ""
    )


def _confirmed_already(event: ConsentEvent) -> ConsentEvent | None:
    """The opted-in line ``event`` (reported by a Vibes event) confirms again, if any.

    Vibes reports one confirmed opt-in twice (``ack_participant_changed`` CONFIRMED and
    ``subscription_added``, in either order): when the person's latest decisive line for
    the list is an opt-in of the same number, this event reports that same opt-in.
    """
    if event.action != ConsentAction.OPTED_IN or not event.vibes_event_ids:
        return None
    latest = (
        ConsentEvent.objects.filter(
            person=event.person,
            subscription_list=event.subscription_list,
            action__in=_DECISIVE,
        )
        .order_by("-occurred_at", "-id")
        .first()
    )
    if latest is None or latest.action != ConsentAction.OPTED_IN:
        return None
    if latest.mdn and event.mdn and str(latest.mdn) != str(event.mdn):
        return None
    return latest


def _disclosure_asked_with(event: ConsentEvent) -> str:
    """The disclosure shown when the person asked for the opt-in Vibes now confirms: the
    opted-in line then proves on its own what the person agreed to. Empty for an opt-in
    nobody asked for here (a keyword), or when the latest request was answered already."""
    latest = (
        ConsentEvent.objects.filter(
            person=event.person,
            subscription_list=event.subscription_list,
            action__in=[ConsentAction.OPT_IN_REQUESTED, *_DECISIVE],
        )
        .order_by("-occurred_at", "-id")
        .only("action", "mdn", "disclosure_text")
        .first()
    )
    if latest is None or latest.action != ConsentAction.OPT_IN_REQUESTED:
        return ""
    if latest.mdn and event.mdn and str(latest.mdn) != str(event.mdn):
        return ""
    return latest.disclosure_text


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
    """Write the line, or add this Vibes event's id to the opt-in line it confirms again:
    one opt-in is one line, whatever number of callbacks report it."""
    existing = _confirmed_already(event)
    if existing is not None:
        ids = list(existing.vibes_event_ids or [])
        new_ids = [i for i in event.vibes_event_ids if i not in ids]
        if new_ids:
            ids.extend(new_ids)
            ConsentEvent.objects.vibes_event_ids_extend(pk=existing.pk, event_ids=ids)
            existing.vibes_event_ids = ids
        return existing
    if event.action == ConsentAction.OPTED_IN and event.vibes_event_ids:
        event.disclosure_text = event.disclosure_text or _disclosure_asked_with(event)
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
    event = ConsentEvent(
        person=person,
        subscription_list=subscription_list,
        action=action,
        source=source,
        occurred_at=consent.occurred_at or timezone.now(),
        mdn=clean_mdn(mdn) or _stored_mdn(person),
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
    # not validated again either: ``clean_mdn`` just did, or it is the person's stored
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
    try:
        action = ConsentAction(action)
    except ValueError as exc:
        raise ValidationError({"action": _("Unknown consent action.")}) from exc
    if opt_out_reason and action != ConsentAction.OPTED_OUT:
        raise ValidationError(
            {"opt_out_reason": _("Only an opt-out has an opt-out reason.")}, code="invalid"
        )
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
