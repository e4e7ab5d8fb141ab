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
from crm.services.persons import person_update
from crm.services.subscriptions import subscription_change
from crm.services.validation import (
    ConsentContext,
    check_source,
    clean_aware,
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
        open_request = OptInRequest.objects.filter(
            person=person,
            subscription_list=subscription_list,
            mdn=mdn,
            status__in=[OptInStatus.REQUESTED, OptInStatus.PENDING],
        ).first()
        if open_request is not None:
            requests.append(open_request)
            continue
        # Expire any open request for another number: the newest one is what counts.
        OptInRequest.objects.filter(
            person=person,
            subscription_list=subscription_list,
            status__in=[OptInStatus.REQUESTED, OptInStatus.PENDING],
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
        requests.append(request)
    new_requests = [r for r in requests if r.status == OptInStatus.REQUESTED]
    if new_requests:
        signals.opt_in_requested.send(
            sender=OptInRequest, opt_in_requests=new_requests, source=source
        )
    return requests


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
    try:
        status = OptInStatus(status)
    except ValueError as exc:
        raise ValidationError({"status": _("Unknown opt-in status.")}) from exc
    event_date = clean_aware(event_date, "event_date")
    expire_date = clean_aware(expire_date, "expire_date")
    consent = clean_consent(consent, default_occurred_at=event_date)
    request = (
        OptInRequest.objects.select_for_update()
        .select_related("person", "subscription_list")
        .get(pk=opt_in_request.pk)
    )
    previous_status = request.status
    final = {OptInStatus.CONFIRMED, OptInStatus.REJECTED, OptInStatus.FAILED, OptInStatus.EXPIRED}
    if previous_status in final and status != previous_status and status != OptInStatus.CONFIRMED:
        # A late PENDING answer must not reopen a request that is already settled.
        return request
    request.status = status
    if message:
        request.message = message[:300]
    if error_code:
        request.error_code = error_code[:64]
    if expire_date:
        request.expire_date = expire_date
    request.save()

    person = request.person
    mdn = str(request.mdn)
    if request.number_change_id and status != previous_status:
        from crm.services import number_changes

        if status == OptInStatus.CONFIRMED:
            number_changes.number_change_confirmed(
                request=request, source=source, person_key=person_key, consent=consent
            )
            person.refresh_from_db()
        elif status in final:
            number_changes.number_change_request_settled(request=request, status=status)
    if status == OptInStatus.CONFIRMED:
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
        if not consent.disclosure_text:
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
    elif status in final:
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
        if status == OptInStatus.REJECTED and previous_status != OptInStatus.REJECTED:
            append_consent_event(
                person=person,
                subscription_list=request.subscription_list,
                action=ConsentAction.OPT_IN_REJECTED,
                source=source,
                consent=consent,
                mdn=mdn,
            )
    if status != previous_status:
        signals.opt_in_request_changed.send(
            sender=OptInRequest,
            opt_in_request=request,
            previous_status=previous_status,
            source=source,
        )
    return request
