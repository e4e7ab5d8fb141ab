"""Appending to the consent ledger."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from crm import signals
from crm.choices import ConsentAction, Source
from crm.erasure_models import person_is_erased
from crm.models import ConsentEvent, Person, SubscriptionList
from crm.services.validation import ConsentContext, check_source, clean_consent, clean_mdn_from


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
