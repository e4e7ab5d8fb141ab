"""What the new number's answers do to a change of number: its first Y completes the
change, and the last request to end without one closes it (docs/preferences.md).

Called by ``opt_in_request_update`` inside its transaction, when a request that belongs to
a change of number is answered; apart from ``crm.services.number_changes`` (which starts
changes through ``opt_in_request``) so that neither module needs the other's.
"""

from __future__ import annotations

from django.utils import timezone

from crm import signals
from crm.choices import (
    ConsentAction,
    NumberChangeStatus,
    OptInStatus,
    OptOutReason,
    Source,
    SubscriptionState,
)
from crm.models import NumberChange, OptInRequest, Person, Subscription
from crm.services.consent import append_consent_event
from crm.services.persons import person_update
from crm.services.subscriptions import subscription_change
from crm.services.validation import ConsentContext

OPEN = [OptInStatus.REQUESTED, OptInStatus.PENDING]
"""The statuses of a request still waiting for its answer."""


def number_change_confirmed(
    *,
    request: OptInRequest,
    source: Source,
    person_key: str | None,
    consent: ConsentContext | None,
) -> None:
    """The new number's owner replied Y: complete the change before the request's own
    list is subscribed (called by ``opt_in_request_update`` in its transaction).

    Every list on the old number ends with an opt-out for that number (reason
    ``number_changed``); a chosen list still waiting for its own Y stays pending on the
    new number; the person takes the new number and its Vibes person key.
    """
    change = NumberChange.objects.select_for_update().get(pk=request.number_change_id)
    if change.status != NumberChangeStatus.PENDING:
        return
    person = Person.objects.select_for_update().get(pk=request.person_id)
    ended = _end_old_number_lists(change, person, request, source=source, consent=consent)
    new_mdn = str(change.new_mdn)
    for holder in Person.objects.filter(mdn=new_mdn).exclude(pk=person.pk):
        _take_over_vibes_made_holder(holder, person)
    if person_key:
        for holder in Person.objects.filter(person_key=person_key).exclude(pk=person.pk):
            person_update(person=holder, source=Source.VIBES, person_key=None)
    updates: dict = {"mdn": new_mdn, "carrier_code": ""}
    if person_key:
        updates["person_key"] = person_key
    person_update(person=person, source=Source.VIBES, **updates)
    change.status = NumberChangeStatus.COMPLETED
    change.new_person_key = person_key or ""
    change.old_list_ids = ended
    change.settled_at = timezone.now()
    change.save()
    signals.number_changed.send(sender=NumberChange, number_change=change, source=source)


def _end_old_number_lists(
    change: NumberChange,
    person: Person,
    request: OptInRequest,
    *,
    source: Source,
    consent: ConsentContext | None,
) -> list[str]:
    """End every list the old number is on, with an opt-out for that number in the ledger;
    a list chosen for the new number (this request's, or one still waiting for its Y)
    stays pending. Answers the Vibes ids of the lists that ended."""
    old_mdn = str(change.old_mdn)
    waiting = set(
        change.opt_in_requests.filter(status__in=OPEN)
        .exclude(pk=request.pk)
        .values_list("subscription_list_id", flat=True)
    )
    ended = []
    subscribed = Subscription.objects.filter(
        person=person, state=SubscriptionState.SUBSCRIBED
    ).select_related("subscription_list")
    for subscription in subscribed:
        subscription_list = subscription.subscription_list
        ended.append(subscription_list.list_id)
        append_consent_event(
            person=person,
            subscription_list=subscription_list,
            action=ConsentAction.OPTED_OUT,
            source=source,
            consent=consent,
            mdn=old_mdn,
            opt_out_reason=OptOutReason.NUMBER_CHANGED,
        )
        chosen = subscription_list.pk in waiting or subscription_list.pk == (
            request.subscription_list_id
        )
        subscription_change(
            person=person,
            subscription_list=subscription_list,
            state=SubscriptionState.PENDING if chosen else SubscriptionState.UNSUBSCRIBED,
            source=Source.VIBES,
            opt_out_reason="" if chosen else OptOutReason.NUMBER_CHANGED,
            record_consent=False,
        )
    return ended


def _take_over_vibes_made_holder(holder: Person, person: Person) -> None:
    """Vibes made ``holder`` for the new number (a keyword, the participant record): it is
    the same owner, who now confirmed as ``person``. The lists it joined by keyword are
    the person's now (its ledger keeps how they were joined); it keeps no number or key."""
    kept = Subscription.objects.filter(
        person=holder, state=SubscriptionState.SUBSCRIBED
    ).select_related("subscription_list")
    for subscription in kept:
        subscription_change(
            person=holder,
            subscription_list=subscription.subscription_list,
            state=SubscriptionState.UNSUBSCRIBED,
            source=Source.VIBES,
            record_consent=False,
        )
        subscription_change(
            person=person,
            subscription_list=subscription.subscription_list,
            state=SubscriptionState.SUBSCRIBED,
            source=Source.VIBES,
            record_consent=False,
        )
    person_update(person=holder, source=Source.VIBES, mdn=None, person_key=None)


def number_change_request_settled(*, request: OptInRequest, status: OptInStatus) -> None:
    """A request of a change still waiting ended without Y: once none is left open the
    change is over (REJECTED if any said no, else EXPIRED); the old number is untouched."""
    change = NumberChange.objects.select_for_update().get(pk=request.number_change_id)
    if change.status != NumberChangeStatus.PENDING:
        return
    if change.opt_in_requests.filter(status__in=OPEN).exists():
        return
    rejected = change.opt_in_requests.filter(status=OptInStatus.REJECTED).exists()
    change.status = NumberChangeStatus.REJECTED if rejected else NumberChangeStatus.EXPIRED
    change.settled_at = timezone.now()
    change.save(update_fields=["status", "settled_at"])
