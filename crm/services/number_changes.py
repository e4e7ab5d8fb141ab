"""Changing a person's confirmed number, and removing it (docs/preferences.md).

Vibes never changes a number on a person (409) and gives a person one active number, so
a new number joins through web double opt-in on a Vibes person of its own, sent without
the CRM's external id (which Vibes ties to the old number). Until the new number's owner
replies Y nothing else changes: a No or a lapse leaves the old number and its lists as
they were. The first Y completes the change: the old number's lists end (ledger reason
``number_changed``), the person takes the new number and its Vibes person, and the sync
ends the old number's lists in Vibes, removes it there and links the CRM's id to the new
Vibes person (``vibes_integration.sync`` operation ``number_change``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import signals
from crm.choices import (
    ConsentAction,
    NumberChangeStatus,
    OptInStatus,
    OptOutReason,
    Source,
    SubscriptionState,
)
from crm.models import NumberChange, OptInRequest, Person, Subscription, SubscriptionList
from crm.services.consent import append_consent_event
from crm.services.opt_ins import opt_in_request, opt_in_request_update
from crm.services.persons import person_update
from crm.services.subscriptions import subscription_change, subscription_leave
from crm.services.validation import ConsentContext, check_source, clean_mdn

#: External ids the CRM made up for persons who joined in Vibes (keyword, landing page,
#: a participant record): such a person is the new number's owner, not another subscriber.
VIBES_MADE_ID_PREFIX = "vibes-"

_OPEN = [OptInStatus.REQUESTED, OptInStatus.PENDING]


def _is_vibes_made(person: Person) -> bool:
    return person.external_person_id.startswith(VIBES_MADE_ID_PREFIX) and not person.email


@transaction.atomic
def number_change_request(
    *,
    person: Person,
    mdn: str,
    subscription_lists: Iterable[SubscriptionList],
    source: Source,
    consent: ConsentContext | None = None,
    consents: Mapping[int, ConsentContext] | None = None,
    refuse_taken: bool = False,
) -> NumberChange:
    """Ask ``mdn`` to replace ``person``'s confirmed number, for the chosen lists.

    ``consents`` gives a list's own consent (its disclosure as shown) by list id;
    ``consent`` is used for the others. ``refuse_taken`` (staff, who may be told) refuses
    a number another subscriber holds with a field error instead of recording a conflict.

    One opt-in request per list goes to the new number (one Vibes confirmation text
    each). A number another subscriber holds is recorded as a conflict for staff and
    nothing is sent, so that subscriber's data is never touched; the caller tells the
    person the same thing either way. An earlier change still waiting is replaced.
    """
    source = check_source(source)
    new_mdn = clean_mdn(mdn)
    if new_mdn is None:
        raise ValidationError({"mdn": _("Enter the new mobile number.")})
    person = Person.objects.select_for_update().get(pk=person.pk)
    if not person.mdn:
        raise ValidationError(
            {"mdn": _("There is no confirmed number to change: join a list with the number.")}
        )
    if str(person.mdn) == new_mdn:
        raise ValidationError({"mdn": _("That is already your number. Enter the new one.")})
    lists = list(subscription_lists)
    if not lists:
        raise ValidationError({"subscription_lists": _("Choose at least one list.")})
    number_change_cancel(person=person, source=source)
    owner = Person.objects.filter(mdn=new_mdn).exclude(pk=person.pk).first()
    if owner is not None and refuse_taken and not _is_vibes_made(owner):
        raise ValidationError(
            {"mdn": _("This number belongs to another subscriber.")}, code="unique"
        )
    change = NumberChange.objects.create(
        person=person,
        old_mdn=str(person.mdn),
        new_mdn=new_mdn,
        old_person_key=person.person_key or "",
        source=source,
    )
    if owner is not None and not _is_vibes_made(owner):
        change.status = NumberChangeStatus.CONFLICT
        change.conflict_person = owner
        change.settled_at = timezone.now()
        change.save(update_fields=["status", "conflict_person", "settled_at"])
        return change
    for subscription_list in lists:
        opt_in_request(
            person=person,
            mdn=new_mdn,
            subscription_lists=[subscription_list],
            source=source,
            consent=(consents or {}).get(subscription_list.pk, consent),
            number_change=change,
        )
    return change


@transaction.atomic
def number_change_cancel(*, person: Person, source: Source) -> NumberChange | None:
    """Withdraw the person's change of number still waiting, if any (a newer one, or
    "Remove my number", replaces it); the old number keeps its lists."""
    change = (
        NumberChange.objects.select_for_update()
        .filter(person=person, status=NumberChangeStatus.PENDING)
        .first()
    )
    if change is None:
        return None
    for request in change.opt_in_requests.filter(status__in=_OPEN).select_related(
        "subscription_list"
    ):
        opt_in_request_update(
            opt_in_request=request,
            status=OptInStatus.EXPIRED,
            source=source,
            message=_("Replaced by a newer request."),
        )
    change.refresh_from_db()
    if change.status == NumberChangeStatus.PENDING:
        change.status = NumberChangeStatus.CANCELLED
        change.settled_at = timezone.now()
        change.save(update_fields=["status", "settled_at"])
    return change


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
    old_mdn = str(change.old_mdn)
    waiting = set(
        change.opt_in_requests.filter(status__in=_OPEN)
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
    new_mdn = str(change.new_mdn)
    for holder in Person.objects.filter(mdn=new_mdn).exclude(pk=person.pk):
        # Vibes made this person for the new number (a keyword, the participant record):
        # it is the same owner, who now confirmed as this subscriber. The lists it joined
        # by keyword are this subscriber's now (its ledger keeps how they were joined).
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


def number_change_request_settled(*, request: OptInRequest, status: OptInStatus) -> None:
    """A request of a change still waiting ended without Y: once none is left open the
    change is over (REJECTED if any said no, else EXPIRED); the old number is untouched."""
    change = NumberChange.objects.select_for_update().get(pk=request.number_change_id)
    if change.status != NumberChangeStatus.PENDING:
        return
    if change.opt_in_requests.filter(status__in=_OPEN).exists():
        return
    rejected = change.opt_in_requests.filter(status=OptInStatus.REJECTED).exists()
    change.status = NumberChangeStatus.REJECTED if rejected else NumberChangeStatus.EXPIRED
    change.settled_at = timezone.now()
    change.save(update_fields=["status", "settled_at"])


@transaction.atomic
def number_remove(
    *, person: Person, source: Source, consent: ConsentContext | None = None
) -> list[str]:
    """ "Remove my number": every list the person is on or waiting for ends, any change
    of number waiting is withdrawn, and the number is removed (Vibes: ``"mdn": null``).
    Answers the names of the lists that ended."""
    source = check_source(source)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if not person.mdn:
        raise ValidationError({"mdn": _("There is no number to remove.")})
    number_change_cancel(person=person, source=source)
    ended = []
    active = (
        Subscription.objects.filter(person=person)
        .exclude(state=SubscriptionState.UNSUBSCRIBED)
        .select_related("subscription_list")
    )
    for subscription in active:
        subscription_leave(
            person=person,
            subscription_list=subscription.subscription_list,
            source=source,
            consent=consent,
        )
        ended.append(subscription.subscription_list.name)
    person_update(person=person, source=source, mdn=None, carrier_code="")
    return ended
