"""``ack_participant_added`` / ``ack_participant_changed``: a web double opt-in moved on.

The CRM's open opt-in request (``OptInRequest``) is found by the campaign's list and by
the person, or by the number when the person is not known yet; it then goes through
``opt_in_request_update``: CONFIRMED subscribes the person and makes the number theirs,
REJECTED puts the pending subscription back and records that the subscriber said no.

A CONFIRMED or REJECTED answer to an opt-in the CRM did not start (a Vibes landing page)
is applied to the person directly. Each answer is written to the consent ledger once.
"""

from __future__ import annotations

from crm import services
from crm.choices import ConsentAction, OptInStatus, Source, SubscriptionState
from crm.models import OptInRequest, Person, Subscription, SubscriptionList
from vibes_integration.callbacks.events import ParticipantEvent, ParticipantStatus
from vibes_integration.callbacks.handlers.base import (
    HandlerContext,
    HandlerResult,
    record_consent_once,
)
from vibes_integration.callbacks.matching import (
    person_find,
    person_resolve,
    subscription_list_resolve,
    usable_mdn,
)
from vibes_integration.callbacks.models import CallbackStatus

_STATUSES = {
    ParticipantStatus.PENDING: OptInStatus.PENDING,
    # Add Participant answers SUBSCRIBED when no confirmation was needed.
    ParticipantStatus.SUBSCRIBED: OptInStatus.CONFIRMED,
    ParticipantStatus.CONFIRMED: OptInStatus.CONFIRMED,
    ParticipantStatus.REJECTED: OptInStatus.REJECTED,
}

_OPEN = [OptInStatus.REQUESTED, OptInStatus.PENDING]


def handle_participant(event: ParticipantEvent, context: HandlerContext) -> HandlerResult:
    status = _STATUSES.get(event.status)
    if status is None:
        context.notes.append(f"Participant status {event.remote_status!r} is not one we know.")
        return HandlerResult(status=CallbackStatus.IGNORED)
    subscription_list = _campaign_list(event)
    if subscription_list is None:
        context.notes.append(
            f"No CRM list uses acquisition campaign {event.campaign_id}; "
            "set it on the list and replay this event."
        )
        return HandlerResult(status=CallbackStatus.IGNORED)

    person = person_find(event.person)
    request = _open_request(person, event.person.mdn, subscription_list)
    if request is not None:
        request = services.opt_in_request_update(
            opt_in_request=request,
            status=status,
            source=Source.VIBES,
            expire_date=event.expire_date,
            person_key=event.person.person_key,
            event_date=context.event_date,
            consent=services.ConsentContext(
                occurred_at=context.event_date, disclosure_text="", reference=context.reference
            ),
        )
        person = Person.objects.get(pk=request.person_id)
        mdn = str(request.mdn)
    else:
        person, _ = person_resolve(event.person, context.notes)
        mdn = event.person.mdn
        if status == OptInStatus.PENDING:
            context.notes.append("No web opt-in request of the CRM matches; nothing to update.")
            return HandlerResult(CallbackStatus.PROCESSED, person, subscription_list)
        person = _apply_without_request(person, subscription_list, status, mdn, context)

    if status == OptInStatus.CONFIRMED:
        record_consent_once(
            context,
            person=person,
            subscription_list=subscription_list,
            action=ConsentAction.OPTED_IN,
            occurred_at=context.event_date,
            mdn=mdn,
            may_exist=True,
        )
    elif status == OptInStatus.REJECTED:
        record_consent_once(
            context,
            person=person,
            subscription_list=subscription_list,
            action=ConsentAction.OPT_IN_REJECTED,
            occurred_at=context.event_date,
            mdn=mdn,
            may_exist=True,
        )
    return HandlerResult(CallbackStatus.PROCESSED, person, subscription_list)


def _campaign_list(event: ParticipantEvent) -> SubscriptionList | None:
    subscription_list = SubscriptionList.objects.filter(
        acquisition_campaign_id=event.campaign_id
    ).first()
    if subscription_list is not None or not event.list_id:
        return subscription_list
    subscription_list, _ = subscription_list_resolve(event.list_id)
    if not subscription_list.acquisition_campaign_id:
        subscription_list, _ = services.subscription_list_upsert(
            list_id=event.list_id, source=Source.VIBES, acquisition_campaign_id=event.campaign_id
        )
    return subscription_list


def _open_request(
    person: Person | None, mdn: str | None, subscription_list: SubscriptionList
) -> OptInRequest | None:
    requests = OptInRequest.objects.filter(
        subscription_list=subscription_list, status__in=_OPEN
    ).order_by("-requested_at", "-id")
    if person is not None:
        request = requests.filter(person=person).first()
        if request is not None:
            return request
    if mdn:
        return requests.filter(mdn=mdn).first()
    return None


def _apply_without_request(
    person: Person,
    subscription_list: SubscriptionList,
    status: OptInStatus,
    mdn: str | None,
    context: HandlerContext,
) -> Person:
    context.notes.append("No open web opt-in request of the CRM matches; applied to the person.")
    if status == OptInStatus.CONFIRMED:
        if mdn and not person.mdn:
            mdn = usable_mdn(mdn, person=person, notes=context.notes)
            if mdn:
                person = services.person_update(person=person, source=Source.VIBES, mdn=mdn).person
        services.subscription_change(
            person=person,
            subscription_list=subscription_list,
            state=SubscriptionState.SUBSCRIBED,
            source=Source.VIBES,
            event_date=context.event_date,
            record_consent=False,
        )
        return person
    pending = Subscription.objects.filter(
        person=person, subscription_list=subscription_list, state=SubscriptionState.PENDING
    ).exists()
    if pending:
        services.subscription_change(
            person=person,
            subscription_list=subscription_list,
            state=SubscriptionState.UNSUBSCRIBED,
            source=Source.VIBES,
            event_date=context.event_date,
            record_consent=False,
        )
    return person
