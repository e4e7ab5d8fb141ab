"""Moving a person's subscription to a list between states, with its consent record."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import signals
from crm.choices import ConsentAction, OptInStatus, Source, SubscriptionState
from crm.erasure_models import person_is_erased
from crm.erasure_selectors import erasure_suppression_find
from crm.models import ConsentEvent, OptInRequest, Person, Subscription, SubscriptionList
from crm.services.consent import append_consent_event
from crm.services.validation import (
    ConsentContext,
    check_opt_out_reason,
    check_source,
    clean_aware,
    clean_choice,
    clean_consent,
    clean_mdn_from,
)


@dataclass(frozen=True)
class SubscriptionChange:
    subscription: Subscription
    changed: bool
    stale: bool = False
    consent_event: ConsentEvent | None = None


_CONSENT_ACTION_FOR_STATE = {
    SubscriptionState.PENDING: ConsentAction.OPT_IN_REQUESTED,
    SubscriptionState.SUBSCRIBED: ConsentAction.OPTED_IN,
    SubscriptionState.UNSUBSCRIBED: ConsentAction.OPTED_OUT,
}


# An erased number joins again only by its owner's new opt-in, which reaches the CRM from
# Vibes (a keyword, a confirmed web opt-in): a list, a form or a client that says
# "subscribed" for it speaks of the consent the erasure ended.
_NEEDS_FRESH_CONSENT_AFTER_ERASURE = {Source.IMPORT, Source.STAFF, Source.API}


def _refuse_erased_number(person: Person) -> None:
    if not person.mdn or person_is_erased(person):
        return
    erased = erasure_suppression_find(mdn=person.mdn)
    if erased is not None:
        raise ValidationError(
            {
                "state": _(
                    "This number belonged to a person erased on %(date)s and is opted out; "
                    "it can join again only by its owner's new opt-in (a keyword, or a "
                    "confirmed web opt-in)."
                )
                % {"date": erased.received_at.date().isoformat()}
            }
        )


def subscription_change(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    state: SubscriptionState,
    source: Source,
    event_date: datetime.datetime | None = None,
    opt_in_date: datetime.datetime | None = None,
    opt_out_date: datetime.datetime | None = None,
    opt_out_reason: str = "",
    consent: ConsentContext | None = None,
    mdn: str | None = None,
    record_consent: bool = True,
) -> SubscriptionChange:
    """Move ``person``'s subscription to ``subscription_list`` into ``state``.

    ``event_date`` is when the change happened at its origin: an event older than the last
    one applied to this person and list is stale and changes nothing (callbacks arrive out
    of order). A real change of state appends a consent event unless ``record_consent`` is
    False (used when the caller records a more specific one itself).

    The input is validated before the transaction, and the writes run in the caller's
    transaction when there is one, without a savepoint of their own: a savepoint costs
    two statements, and callback processing calls this for nearly every event. Should a
    write fail, the caller's whole transaction is rolled back (Django refuses to go on
    with it), so nothing is half-written either way.
    """
    source = check_source(source)
    state = clean_choice(SubscriptionState, state, "state", _("Unknown subscription state."))
    check_opt_out_reason(opt_out_reason)
    event_date = clean_aware(event_date, "event_date")
    opt_in_date = clean_aware(opt_in_date, "opt_in_date")
    opt_out_date = clean_aware(opt_out_date, "opt_out_date")
    consent = clean_consent(consent, default_occurred_at=event_date)
    mdn = clean_mdn_from(source, mdn)
    if state == SubscriptionState.SUBSCRIBED and source in _NEEDS_FRESH_CONSENT_AFTER_ERASURE:
        _refuse_erased_number(person)
    dates = (event_date, opt_in_date, opt_out_date)
    with transaction.atomic(savepoint=False):
        subscription, previous_state, changed = _locked_and_applied(
            person, subscription_list, source, state, dates, opt_out_reason
        )
        if changed is None:
            return SubscriptionChange(subscription=subscription, changed=False, stale=True)
        consent_event = None
        if changed and record_consent:
            consent_event = _ledger_line(
                person, subscription_list, state, source, consent, mdn, opt_out_reason
            )
        if changed:
            signals.subscription_changed.send(
                sender=Subscription,
                subscription=subscription,
                previous_state=previous_state,
                consent_event=consent_event,
                source=source,
            )
        return SubscriptionChange(
            subscription=subscription, changed=changed, consent_event=consent_event
        )


def _ledger_line(
    person: Person,
    subscription_list: SubscriptionList,
    state: SubscriptionState,
    source: Source,
    consent: ConsentContext | None,
    mdn: str | None,
    opt_out_reason: str,
) -> ConsentEvent:
    """The consent event of a change into ``state`` (an opt-out keeps its reason)."""
    return append_consent_event(
        person=person,
        subscription_list=subscription_list,
        action=_CONSENT_ACTION_FOR_STATE[state],
        source=source,
        consent=consent,
        mdn=mdn,
        opt_out_reason=opt_out_reason if state == SubscriptionState.UNSUBSCRIBED else "",
    )


def _locked_and_applied(
    person: Person,
    subscription_list: SubscriptionList,
    source: Source,
    state: SubscriptionState,
    dates: tuple[datetime.datetime | None, datetime.datetime | None, datetime.datetime | None],
    opt_out_reason: str,
) -> tuple[Subscription, str, bool | None]:
    """Lock (or make) the subscription, apply the change and save it: answers it, its
    state before, and whether the state changed (None: the event is stale, nothing done).

    Another transaction may create this subscription between our look and our write: then
    look again and apply the change to theirs, as if we had found it. ``dates`` are the
    event's, the opt-in's and the opt-out's.
    """
    event_date, opt_in_date, opt_out_date = dates
    while True:
        subscription = _locked_or_new(person, subscription_list, source)
        if event_date and subscription.event_date and event_date < subscription.event_date:
            return subscription, subscription.state, None
        previous_state = subscription.state
        changed = state_apply(
            subscription,
            state=state,
            source=source,
            event_date=event_date,
            opt_in_date=opt_in_date,
            opt_out_date=opt_out_date,
            opt_out_reason=opt_out_reason,
        )
        if _saved(subscription):
            return subscription, previous_state, changed


def _locked_or_new(
    person: Person, subscription_list: SubscriptionList, source: Source
) -> Subscription:
    """The person's subscription to the list, locked; or a new one, not saved yet."""
    try:
        # get(), not first(): first() would order by the list (the model's ordering), a
        # join that also locks the list's row and so serialises every change to the list.
        return Subscription.objects.select_for_update().get(
            person=person, subscription_list=subscription_list
        )
    except Subscription.DoesNotExist:
        # Written once by the caller, with its final values (one INSERT rather than an
        # INSERT of the defaults followed by an UPDATE).
        return Subscription(
            person=person,
            subscription_list=subscription_list,
            state=SubscriptionState.UNSUBSCRIBED,
            source=source,
        )


def state_apply(
    subscription: Subscription,
    *,
    state: SubscriptionState,
    source: Source,
    event_date: datetime.datetime | None,
    opt_in_date: datetime.datetime | None,
    opt_out_date: datetime.datetime | None,
    opt_out_reason: str,
) -> bool:
    """Set the subscription's fields for a (not stale) change into ``state``, unsaved;
    answers whether its state changed. Shared with ``bulk`` so that a change applied
    with others ends exactly like one applied alone."""
    previous_state = subscription.state
    now = timezone.now()
    if event_date:
        subscription.event_date = event_date
    changed = previous_state != state
    if state == SubscriptionState.SUBSCRIBED:
        if changed or opt_in_date:
            subscription.opt_in_date = opt_in_date or subscription.opt_in_date or event_date or now
        if changed:
            subscription.opt_out_date = None
            subscription.opt_out_reason = ""
    elif state == SubscriptionState.UNSUBSCRIBED:
        if changed and previous_state == SubscriptionState.SUBSCRIBED:
            subscription.opt_out_date = opt_out_date or event_date or now
            subscription.opt_out_reason = opt_out_reason or ""
        elif opt_out_date:
            subscription.opt_out_date = opt_out_date
            subscription.opt_out_reason = opt_out_reason or subscription.opt_out_reason
        if opt_in_date:
            # Vibes reports an opt-out with the opt-in date of the subscription it ended;
            # keeping it gives the same result whichever of the two callbacks comes first.
            subscription.opt_in_date = opt_in_date
    if changed:
        subscription.state = state
        subscription.source = source
    return changed


def _saved(subscription: Subscription) -> bool:
    """Save; False when a new subscription lost the race to create it (nothing written).

    The race needs a savepoint to recover from on PostgreSQL only. On SQLite it cannot
    happen: a transaction that looked for the row before another one wrote it cannot
    write at all (SQLite answers "database is locked"), and this project's transactions
    take the write lock when they begin.
    """
    if not subscription._state.adding:
        subscription.save()
        return True
    if connection.vendor == "sqlite":
        subscription.save(force_insert=True)
        return True
    try:
        with transaction.atomic():
            subscription.save(force_insert=True)
    except IntegrityError:
        return False
    return True


@transaction.atomic
def subscription_leave(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    source: Source,
    consent: ConsentContext | None = None,
    opt_out_reason: str = "",
) -> SubscriptionChange:
    """The person leaves the list (also withdraws a pending web opt-in to it)."""
    OptInRequest.objects.filter(
        person=person,
        subscription_list=subscription_list,
        status__in=[OptInStatus.REQUESTED, OptInStatus.PENDING],
    ).update(status=OptInStatus.EXPIRED, message=_("Withdrawn before it was confirmed."))
    return subscription_change(
        person=person,
        subscription_list=subscription_list,
        state=SubscriptionState.UNSUBSCRIBED,
        source=source,
        consent=consent,
        opt_out_reason=opt_out_reason,
    )


@transaction.atomic
def person_stop_all(
    *, person: Person, source: Source, consent: ConsentContext | None = None
) -> list[SubscriptionChange]:
    """ "Stop all texts": leave every list the person is on or waiting to join."""
    changes = []
    active = (
        Subscription.objects.filter(person=person)
        .exclude(state=SubscriptionState.UNSUBSCRIBED)
        .select_related("subscription_list")
    )
    for subscription in active:
        changes.append(
            subscription_leave(
                person=person,
                subscription_list=subscription.subscription_list,
                source=source,
                consent=consent,
            )
        )
    return changes
