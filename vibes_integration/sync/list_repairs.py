"""How a person's subscription to one list differs between the CRM and Vibes, and its repair.

Part of ``drift``: Vibes is the opt-in database, so what it holds wins, unless the CRM's own
change is newer (a leave not sent yet is sent); a subscription Vibes never had is reported
for a person to settle. Repairs that change the CRM go through ``crm.services`` with
``source=Source.VIBES``, so they are not echoed back.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crm import services
from crm.choices import OptInStatus, OptOutReason, Source, SubscriptionState
from crm.models import OptInRequest, Person, Subscription, SubscriptionList
from vibes_integration.sync import outbox
from vibes_integration.sync.payloads import parse_vibes_datetime
from vibes_integration.sync.repairs import CRM_IS_RIGHT, VIBES_IS_RIGHT, Repair


def list_repair(
    person: Person,
    subscription_list: SubscriptionList,
    record: dict[str, Any] | None,
    subscription: Subscription | None,
    state: str,
    active: bool,
    request: OptInRequest | None,
) -> Repair | None:
    """The repair of one list's difference; None when both sides agree."""
    if active and state == SubscriptionState.SUBSCRIBED:
        return None
    if active:
        return _joined_in_vibes_repair(
            person, subscription_list, record, subscription, state, request
        )
    return _not_in_vibes_repair(person, subscription_list, record, state, request)


def _joined_in_vibes_repair(
    person: Person,
    subscription_list: SubscriptionList,
    record: dict[str, Any],
    subscription: Subscription | None,
    state: str,
    request: OptInRequest | None,
) -> Repair:
    """The person is on the list in Vibes, and not subscribed in the CRM."""
    name = {"list": subscription_list.name}
    opted_in = parse_vibes_datetime(record.get("opt_in_date"))
    if state == SubscriptionState.PENDING and request is not None:
        return Repair(
            _("%(list)s: confirmed in Vibes, pending in the CRM") % name,
            lambda: services.opt_in_request_update(
                opt_in_request=request,
                status=OptInStatus.CONFIRMED,
                source=Source.VIBES,
                event_date=opted_in,
                person_key=person.person_key,
            ),
            right=VIBES_IS_RIGHT,
            action=_("confirm the opt-in in the CRM"),
        )
    left = _crm_change_date(subscription)
    if state == SubscriptionState.UNSUBSCRIBED and left and opted_in and left > opted_in:
        return Repair(
            _("%(list)s: left in the CRM after joining in Vibes") % name,
            lambda: outbox.outbox_unsubscribe(
                person=person, subscription_list=subscription_list, source=Source.STAFF
            ),
            right=CRM_IS_RIGHT,
            action=_("send the leave to Vibes"),
        )
    return Repair(
        _("%(list)s: subscribed in Vibes, not in the CRM") % name,
        lambda: services.subscription_change(
            person=person,
            subscription_list=subscription_list,
            state=SubscriptionState.SUBSCRIBED,
            source=Source.VIBES,
            event_date=opted_in,
            opt_in_date=opted_in,
        ),
        right=VIBES_IS_RIGHT,
        action=_("subscribe in the CRM"),
    )


def _not_in_vibes_repair(
    person: Person,
    subscription_list: SubscriptionList,
    record: dict[str, Any] | None,
    state: str,
    request: OptInRequest | None,
) -> Repair | None:
    """The person is not (or no longer) on the list in Vibes."""
    name = {"list": subscription_list.name}
    if state == SubscriptionState.SUBSCRIBED:
        if record is None:
            return Repair(
                _(
                    "%(list)s: subscribed in the CRM but never in Vibes; a number joins only "
                    "through opt-in"
                )
                % name,
                right=VIBES_IS_RIGHT,
            )
        opted_out = parse_vibes_datetime(record.get("opt_out_date"))
        reason = record.get("opt_out_reason") or ""
        return Repair(
            _("%(list)s: left in Vibes, subscribed in the CRM") % name,
            lambda: services.subscription_change(
                person=person,
                subscription_list=subscription_list,
                state=SubscriptionState.UNSUBSCRIBED,
                source=Source.VIBES,
                event_date=opted_out,
                opt_out_date=opted_out,
                opt_out_reason=reason if reason in OptOutReason.values else "",
            ),
            right=VIBES_IS_RIGHT,
            action=_("unsubscribe in the CRM"),
        )
    if (
        state == SubscriptionState.PENDING
        and request is not None
        and request.expire_date
        and request.expire_date < timezone.now()
    ):
        return Repair(
            _("%(list)s: the confirmation text lapsed unanswered in Vibes, pending in the CRM")
            % name,
            lambda: services.opt_in_request_update(
                opt_in_request=request,
                status=OptInStatus.EXPIRED,
                source=Source.VIBES,
                message=_("The confirmation text expired without a reply."),
            ),
            right=VIBES_IS_RIGHT,
            action=_("expire the opt-in in the CRM"),
        )
    return None


def _crm_change_date(subscription: Subscription | None) -> datetime.datetime | None:
    if subscription is None:
        return None
    return subscription.opt_out_date or subscription.event_date or subscription.updated_at
