"""Web double opt-in (Vibes Add Participant) of a number to lists, and what became of it."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm import signals
from crm.choices import ConsentAction, OptInStatus, Source, SubscriptionState
from crm.models import NumberChange, OptInRequest, Person, Subscription, SubscriptionList
from crm.services.consent import append_consent_event, requested_disclosure
from crm.services.number_change_answers import (
    OPEN,
    number_change_confirmed,
    number_change_request_settled,
)
from crm.services.persons import person_update
from crm.services.subscriptions import subscription_change
from crm.services.validation import (
    ConsentContext,
    check_source,
    clean_aware,
    clean_choice,
    clean_consent,
    clean_mdn,
)


@transaction.atomic
def opt_in_request(
    *,
    person: Person,
    mdn: str,
    subscription_lists: Iterable[SubscriptionList],
    source: Source,
    consent: ConsentContext | None = None,
    number_change: NumberChange | None = None,
) -> list[OptInRequest]:
    """Ask Vibes to sign ``mdn`` up to each list through web double opt-in.

    Each list's subscription shows pending and an opt-in-requested consent event records
    the disclosure shown; the Add Participant calls are made by the sync after commit.
    A list the number is already subscribed to (the person's confirmed number) is skipped.
    With ``number_change`` (``number_change_request``, which checked the number's owner)
    the requests belong to a change of number and the lists stay as they are meanwhile.
    """
    source = check_source(source)
    mdn = clean_mdn(mdn)
    if mdn is None:
        raise ValidationError({"mdn": _("Enter a mobile number.")})
    lists = _lists_joined_from_the_web(subscription_lists)
    owner = Person.objects.filter(mdn=mdn).exclude(pk=person.pk).first()
    if owner is not None and number_change is None:
        raise ValidationError(
            {"mdn": _("This number belongs to another subscriber.")}, code="unique"
        )

    current = {
        s.subscription_list_id: s
        for s in Subscription.objects.filter(person=person, subscription_list__in=lists)
    }
    same_number = person.mdn and str(person.mdn) == mdn
    requests = []
    for subscription_list in lists:
        subscription = current.get(subscription_list.pk)
        if (
            same_number
            and subscription is not None
            and subscription.state == SubscriptionState.SUBSCRIBED
        ):
            continue
        requests.append(
            _request_one_list(
                person=person,
                subscription_list=subscription_list,
                subscription=subscription,
                mdn=mdn,
                source=source,
                consent=consent,
                number_change=number_change,
            )
        )
    new_requests = [r for r in requests if r.status == OptInStatus.REQUESTED]
    if new_requests:
        signals.opt_in_requested.send(
            sender=OptInRequest, opt_in_requests=new_requests, source=source
        )
    return requests


def _lists_joined_from_the_web(
    subscription_lists: Iterable[SubscriptionList],
) -> list[SubscriptionList]:
    """The lists asked for, refused when there are none or one has no web opt-in campaign."""
    lists = list(subscription_lists)
    if not lists:
        raise ValidationError({"subscription_lists": _("Choose at least one list.")})
    missing = [sl.name for sl in lists if not sl.acquisition_campaign_id]
    if missing:
        raise ValidationError(
            {
                "subscription_lists": _("These lists cannot be joined from the web yet: %(names)s.")
                % {"names": ", ".join(missing)}
            }
        )
    return lists


def _request_one_list(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    subscription: Subscription | None,
    mdn: str,
    source: Source,
    consent: ConsentContext | None,
    number_change: NumberChange | None,
) -> OptInRequest:
    """The open request of ``mdn`` to the list, or a new one that replaces any open
    request of another number, with the list pending and the request in the ledger."""
    open_request = OptInRequest.objects.filter(
        person=person,
        subscription_list=subscription_list,
        mdn=mdn,
        status__in=OPEN,
    ).first()
    if open_request is not None:
        return open_request
    # Expire any open request for another number: the newest one is what counts.
    OptInRequest.objects.filter(
        person=person,
        subscription_list=subscription_list,
        status__in=OPEN,
    ).update(status=OptInStatus.EXPIRED, message=_("Replaced by a newer request."))
    request = OptInRequest.objects.create(
        person=person,
        subscription_list=subscription_list,
        mdn=mdn,
        status=OptInStatus.REQUESTED,
        source=source,
        message=_("We will text %(mdn)s to confirm.") % {"mdn": mdn},
        number_change=number_change,
    )
    if subscription is None or subscription.state != SubscriptionState.SUBSCRIBED:
        subscription_change(
            person=person,
            subscription_list=subscription_list,
            state=SubscriptionState.PENDING,
            source=source,
            record_consent=False,
        )
    append_consent_event(
        person=person,
        subscription_list=subscription_list,
        action=ConsentAction.OPT_IN_REQUESTED,
        source=source,
        consent=consent,
        mdn=mdn,
    )
    return request


_FINAL = {OptInStatus.CONFIRMED, OptInStatus.REJECTED, OptInStatus.FAILED, OptInStatus.EXPIRED}


@transaction.atomic
def opt_in_request_update(
    *,
    opt_in_request: OptInRequest,
    status: OptInStatus,
    source: Source,
    message: str = "",
    error_code: str = "",
    expire_date: datetime.datetime | None = None,
    person_key: str | None = None,
    event_date: datetime.datetime | None = None,
    consent: ConsentContext | None = None,
) -> OptInRequest:
    """Record what became of a web opt-in, and its effect on the subscription.

    CONFIRMED subscribes the person and makes the number theirs; REJECTED, FAILED and
    EXPIRED put a pending subscription back to not subscribed (REJECTED with a consent
    event: the subscriber said no). PENDING only stores Vibes' answer.
    """
    source = check_source(source)
    status = clean_choice(OptInStatus, status, "status", _("Unknown opt-in status."))
    event_date = clean_aware(event_date, "event_date")
    expire_date = clean_aware(expire_date, "expire_date")
    consent = clean_consent(consent, default_occurred_at=event_date)
    request = (
        OptInRequest.objects.select_for_update()
        .select_related("person", "subscription_list")
        .get(pk=opt_in_request.pk)
    )
    previous_status = request.status
    if previous_status in _FINAL and status != previous_status and status != OptInStatus.CONFIRMED:
        # A late PENDING answer must not reopen a request that is already settled.
        return request
    _store_answer(request, status, message=message, error_code=error_code, expire_date=expire_date)

    person = request.person
    if request.number_change_id and status != previous_status:
        _answer_number_change(
            request, person, source=source, person_key=person_key, consent=consent
        )
    if status == OptInStatus.CONFIRMED:
        _confirm(
            request, person, source, person_key=person_key, event_date=event_date, consent=consent
        )
    elif status in _FINAL:
        _close(request, person, source, previous_status, event_date=event_date, consent=consent)
    if status != previous_status:
        signals.opt_in_request_changed.send(
            sender=OptInRequest,
            opt_in_request=request,
            previous_status=previous_status,
            source=source,
        )
    return request


def _answer_number_change(
    request: OptInRequest,
    person: Person,
    *,
    source: Source,
    person_key: str | None,
    consent: ConsentContext | None,
) -> None:
    """A request of a change of number got its answer: a Y completes the change first (the
    person, reloaded, has the new number), a final no may close it."""
    if request.status == OptInStatus.CONFIRMED:
        number_change_confirmed(
            request=request, source=source, person_key=person_key, consent=consent
        )
        person.refresh_from_db()
    elif request.status in _FINAL:
        number_change_request_settled(request=request, status=request.status)


def _store_answer(
    request: OptInRequest,
    status: OptInStatus,
    *,
    message: str,
    error_code: str,
    expire_date: datetime.datetime | None,
) -> None:
    """Save Vibes' answer on the request: its status, and what it said when it said it."""
    request.status = status
    if message:
        request.message = message[:300]
    if error_code:
        request.error_code = error_code[:64]
    if expire_date:
        request.expire_date = expire_date
    request.save()


def _confirm(
    request: OptInRequest,
    person: Person,
    source: Source,
    *,
    person_key: str | None,
    event_date: datetime.datetime | None,
    consent: ConsentContext | None,
) -> None:
    """The owner said Y: the number (unless another subscriber holds it) and Vibes' person
    key (unless another person holds it) become the person's, and the list is joined."""
    mdn = str(request.mdn)
    updates: dict[str, Any] = {}
    if not person.mdn or str(person.mdn) != mdn:
        owner = Person.objects.filter(mdn=mdn).exclude(pk=person.pk).exists()
        if not owner:
            updates["mdn"] = mdn
    if (
        person_key
        and person.person_key != person_key
        and not Person.objects.filter(person_key=person_key).exclude(pk=person.pk).exists()
    ):
        updates["person_key"] = person_key
    if updates:
        person_update(person=person, source=Source.VIBES, **updates)
    if consent is not None and not consent.disclosure_text:
        # The line of this Y keeps what was shown when it was asked for.
        consent = dataclasses.replace(
            consent,
            disclosure_text=requested_disclosure(
                person=person, subscription_list=request.subscription_list, mdn=mdn
            ),
        )
    subscription_change(
        person=person,
        subscription_list=request.subscription_list,
        state=SubscriptionState.SUBSCRIBED,
        source=source,
        event_date=event_date,
        consent=consent,
        mdn=mdn,
    )


def _close(
    request: OptInRequest,
    person: Person,
    source: Source,
    previous_status: OptInStatus,
    *,
    event_date: datetime.datetime | None,
    consent: ConsentContext | None,
) -> None:
    """No Y (rejected, failed, lapsed): a pending subscription goes back to not
    subscribed, and a first "no" goes in the ledger."""
    current = Subscription.objects.filter(
        person=person, subscription_list=request.subscription_list
    ).first()
    if current is not None and current.state == SubscriptionState.PENDING:
        subscription_change(
            person=person,
            subscription_list=request.subscription_list,
            state=SubscriptionState.UNSUBSCRIBED,
            source=source,
            event_date=event_date,
            record_consent=False,
        )
    if request.status == OptInStatus.REJECTED and previous_status != OptInStatus.REJECTED:
        append_consent_event(
            person=person,
            subscription_list=request.subscription_list,
            action=ConsentAction.OPT_IN_REJECTED,
            source=source,
            consent=consent,
            mdn=str(request.mdn),
        )
