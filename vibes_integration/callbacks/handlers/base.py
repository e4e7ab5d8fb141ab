"""What every handler receives and returns, and the ledger rule they share."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from crm import services
from crm.choices import ConsentAction, Source
from crm.models import ConsentEvent, Person, SubscriptionList
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus


@dataclass
class HandlerContext:
    callback_event: CallbackEvent
    event_date: datetime.datetime
    """When it happened at Vibes (``event_date``; the time we received it if absent)."""
    notes: list[str] = field(default_factory=list)
    subscription_lists: dict[str, SubscriptionList] = field(default_factory=dict)
    """Lists already found by the subscription events before this one in the same
    transaction (a batch), by Vibes list id: most callbacks of a batch name the same list.
    Emptied by any other kind of event (it may change lists) and by an event that failed
    (its rollback may have undone a list it created)."""

    @property
    def reference(self) -> str:
        """What consent events and logs name as their cause."""
        return f"callback:{self.callback_event.event_id}"


@dataclass
class HandlerResult:
    """The status a handler leaves its callback event in, and the person and list it touched."""

    status: CallbackStatus
    person: Person | None = None
    subscription_list: SubscriptionList | None = None


def record_consent_once(
    context: HandlerContext,
    *,
    person: Person,
    subscription_list: SubscriptionList,
    action: ConsentAction,
    occurred_at: datetime.datetime,
    opt_out_reason: str = "",
    mdn: str | None = None,
    may_exist: bool = False,
) -> None:
    """Append the consent fact this callback reports, exactly once per callback event.

    Every opt-in and opt-out Vibes reports is written to the ledger at the date it
    happened, also when it arrives late and changes no subscription: the ledger then
    holds the same history whatever order Vibes delivered in. A replayed event finds its
    line already there (by reference) and adds nothing.
    """
    if (may_exist or context.callback_event.attempts > 1) and (
        ConsentEvent.objects.filter(
            reference=context.reference,
            person=person,
            subscription_list=subscription_list,
            action=action,  # events of two types may share an event id, hence a reference
        ).exists()
    ):
        # Only an event processed before (or a service called for this one, ``may_exist``)
        # can have written the line already: a failed attempt rolled everything back.
        return
    services.consent_record(
        person=person,
        subscription_list=subscription_list,
        action=action,
        source=Source.VIBES,
        consent=services.ConsentContext(
            occurred_at=occurred_at, disclosure_text="", reference=context.reference
        ),
        opt_out_reason=opt_out_reason,
        mdn=mdn,
    )
