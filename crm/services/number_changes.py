"""Changing a person's confirmed number, and removing it (docs/preferences.md).

Vibes never changes a number on a person (409) and gives a person one active number, so
a new number joins through web double opt-in on a Vibes person of its own, sent without
the CRM's external id (which Vibes ties to the old number). Until the new number's owner
replies Y nothing else changes: a No or a lapse leaves the old number and its lists as
they were. The first Y completes the change: the old number's lists end (ledger reason
``number_changed``), the person takes the new number and its Vibes person, and the sync
ends the old number's lists in Vibes, removes it there and links the CRM's id to the new
Vibes person (``vibes_integration.sync`` operation ``number_change``). What the answers
do to a change is ``crm.services.number_change_answers``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import NumberChangeStatus, OptInStatus, Source, SubscriptionState
from crm.models import NumberChange, Person, Subscription, SubscriptionList
from crm.services.number_change_answers import OPEN
from crm.services.opt_ins import opt_in_request, opt_in_request_update
from crm.services.persons import person_update
from crm.services.subscriptions import subscription_leave
from crm.services.validation import ConsentContext, check_source, clean_mdn

#: External ids the CRM made up for persons who joined in Vibes (keyword, landing page,
#: a participant record): such a person is the new number's owner, not another subscriber.
VIBES_MADE_ID_PREFIX = "vibes-"


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
    _refuse_no_change(person, new_mdn)
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
        _record_conflict(change, owner)
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


def _refuse_no_change(person: Person, new_mdn: str) -> None:
    """Refuse a change without a confirmed number to change, or to the same number."""
    if not person.mdn:
        raise ValidationError(
            {"mdn": _("There is no confirmed number to change: join a list with the number.")}
        )
    if str(person.mdn) == new_mdn:
        raise ValidationError({"mdn": _("That is already your number. Enter the new one.")})


def _record_conflict(change: NumberChange, owner: Person) -> None:
    """Another subscriber holds the new number: the change ends as a conflict for staff,
    and nothing is sent to that number."""
    change.status = NumberChangeStatus.CONFLICT
    change.conflict_person = owner
    change.settled_at = timezone.now()
    change.save(update_fields=["status", "conflict_person", "settled_at"])


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
    for request in change.opt_in_requests.filter(status__in=OPEN).select_related(
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
