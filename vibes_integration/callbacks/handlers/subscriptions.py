"""``subscription_added`` / ``subscription_removed``: someone joined or left a list.

This is how keyword opt-ins, Vibes landing pages, confirmed web opt-ins and STOP replies
reach the CRM. The subscription takes the event's state unless a newer event for the
same person and list was applied already (then the event is stale; an opt-out and an
opt-in of the very same moment leave the person opted out); either way the opt-in or
opt-out is written to the consent ledger at the date it happened.
"""

from __future__ import annotations

import datetime

from crm import selectors, services
from crm.choices import ConsentAction, NumberChangeStatus, Source, SubscriptionState
from crm.models import Person, SubscriptionList
from vibes_integration.callbacks.events import CallbackType, SubscriptionEvent
from vibes_integration.callbacks.handlers.base import (
    HandlerContext,
    HandlerResult,
    record_consent_once,
)
from vibes_integration.callbacks.matching import person_resolve, subscription_list_resolve
from vibes_integration.callbacks.models import CallbackStatus


def handle_subscription(event: SubscriptionEvent, context: HandlerContext) -> HandlerResult:
    added = event.envelope.callback_type == CallbackType.SUBSCRIPTION_ADDED
    change = selectors.number_change_of_vibes_person(event.person.person_key, event.person.mdn)
    if not added and change is not None and change.status == NumberChangeStatus.COMPLETED:
        context.notes.append(
            "The old number of a completed change of number left the list; "
            "the CRM recorded that when the new number confirmed."
        )
        return HandlerResult(status=CallbackStatus.PROCESSED, person=change.person)
    person, _ = person_resolve(event.person, context.notes)
    subscription_list = context.subscription_lists.get(event.list_id)
    if subscription_list is None:
        subscription_list, _ = subscription_list_resolve(event.list_id)
        context.subscription_lists[event.list_id] = subscription_list
    if not added and event.remote_opt_out_reason and not event.opt_out_reason:
        context.notes.append(
            f"Opt-out reason {event.remote_opt_out_reason!r} is not one Vibes documents; "
            "stored without a reason."
        )
    report = subscription_report(event, context, person=person, subscription_list=subscription_list)
    change = services.subscription_change(
        person=person,
        subscription_list=subscription_list,
        state=report.state,
        source=Source.VIBES,
        event_date=report.event_date,
        opt_in_date=report.opt_in_date,
        opt_out_date=report.opt_out_date,
        opt_out_reason=report.opt_out_reason,
        record_consent=False,
    )
    record_consent_once(
        context,
        person=person,
        subscription_list=subscription_list,
        action=ConsentAction.OPTED_IN if added else ConsentAction.OPTED_OUT,
        occurred_at=report.consent.occurred_at,
        opt_out_reason=report.opt_out_reason,
    )
    return HandlerResult(
        status=CallbackStatus.STALE if change.stale else CallbackStatus.PROCESSED,
        person=person,
        subscription_list=subscription_list,
    )


def subscription_report(
    event: SubscriptionEvent,
    context: HandlerContext,
    *,
    person: Person,
    subscription_list: SubscriptionList,
) -> services.SubscriptionReport:
    """What a subscription event reports: the state, the dates and the consent fact.

    The one reading of an event for both paths: ``handle_subscription`` (one by one) and
    ``bulk_apply`` (a batch together). Dates are always given (the event's own date when
    the body has none) so that the subscription ends the same whichever order the
    callbacks arrive in.
    """
    added = event.envelope.callback_type == CallbackType.SUBSCRIPTION_ADDED
    consent_date = (event.opt_in_date if added else event.opt_out_date) or context.event_date
    return services.SubscriptionReport(
        person=person,
        subscription_list=subscription_list,
        state=SubscriptionState.SUBSCRIBED if added else SubscriptionState.UNSUBSCRIBED,
        event_date=ordering_date(event, context, added=added),
        opt_in_date=(event.opt_in_date or context.event_date) if added else event.opt_in_date,
        opt_out_date=None if added else (event.opt_out_date or context.event_date),
        opt_out_reason="" if added else event.opt_out_reason,
        consent=services.ConsentContext(
            occurred_at=consent_date, disclosure_text="", reference=context.reference
        ),
    )


def ordering_date(
    event: SubscriptionEvent, context: HandlerContext, *, added: bool
) -> datetime.datetime:
    """The date that orders this event against the others for the same person and list.

    Vibes may stamp an event to the minute only (``14:30Z``), so each event is known to
    lie in a span: from its event date (or its opt-in/opt-out date when that is later and
    more precise) to the end of the minute. An opt-out is dated at the end of its span
    and an opt-in a microsecond before the start of its own, so that when the two cannot
    be ordered (their spans overlap, or they name the very same second) the opt-out wins,
    whichever arrives first: the CRM does not text someone who may have said STOP.
    """
    subject = event.opt_in_date if added else event.opt_out_date
    earliest = max(d for d in (context.event_date, subject) if d is not None)
    if added:
        return earliest - datetime.timedelta(microseconds=1)
    latest = event.envelope.event_date_latest or context.event_date
    return max(latest, earliest)
