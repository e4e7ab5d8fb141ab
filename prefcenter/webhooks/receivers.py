"""Receivers of the ``crm.signals``: each turns what a service did into an event.

They run inside the service's transaction (the signals are sent there), so the event and
its deliveries commit or roll back with the change; they hold no other logic. Unlike the
outbound sync, changes that came from Vibes are announced too: a STOP texted to Vibes is
exactly what the brand's systems want to hear about.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm.choices import OptInStatus, SubscriptionState
from crm.models import OptInRequest, Person, Subscription
from prefcenter.webhooks import payloads, services
from prefcenter.webhooks.choices import EventType


def on_person_changed(
    sender,
    *,
    person: Person,
    created: bool,
    changed_fields: Iterable[str],
    source: str,
    **kwargs,
) -> None:
    services.event_publish(
        event_type=EventType.PERSON_CHANGED,
        data=payloads.person_changed_data(
            person=person, created=created, changed_fields=changed_fields, source=source
        ),
    )


def on_subscription_changed(
    sender, *, subscription: Subscription, previous_state: str, source: str, **kwargs
) -> None:
    """Subscribed, or opted out of a list the person was subscribed to. Leaving a list
    while its opt-in was pending is not an opt-out: ``opt_in.rejected`` tells of a no."""
    if subscription.state == SubscriptionState.SUBSCRIBED:
        services.event_publish(
            event_type=EventType.SUBSCRIPTION_SUBSCRIBED,
            data=payloads.subscribed_data(subscription=subscription, source=source),
        )
    elif (
        subscription.state == SubscriptionState.UNSUBSCRIBED
        and previous_state == SubscriptionState.SUBSCRIBED
    ):
        services.event_publish(
            event_type=EventType.SUBSCRIPTION_OPTED_OUT,
            data=payloads.opted_out_data(subscription=subscription, source=source),
        )


_OPT_IN_EVENTS = {
    OptInStatus.CONFIRMED: EventType.OPT_IN_CONFIRMED,
    OptInStatus.REJECTED: EventType.OPT_IN_REJECTED,
}


def on_opt_in_request_changed(
    sender, *, opt_in_request: OptInRequest, source: str, **kwargs
) -> None:
    event_type = _OPT_IN_EVENTS.get(opt_in_request.status)
    if event_type is not None:
        services.event_publish(
            event_type=event_type,
            data=payloads.opt_in_data(opt_in_request=opt_in_request, source=source),
        )


def on_erasure_finished(sender, *, erasure_request, **kwargs) -> None:
    """Erased in the CRM and in Vibes: only ids and times, the person has no data left."""
    services.event_publish(
        event_type=EventType.ERASURE_DONE,
        data={
            "erasure_request_id": erasure_request.pk,
            "person_id": erasure_request.person_id,
            "received_at": payloads._iso(erasure_request.received_at),
            "crm_finished_at": payloads._iso(erasure_request.crm_finished_at),
            "vibes_finished_at": payloads._iso(erasure_request.vibes_finished_at),
        },
    )


def connect() -> None:
    from crm import signals

    signals.person_changed.connect(on_person_changed, dispatch_uid="webhooks.person_changed")
    signals.subscription_changed.connect(
        on_subscription_changed, dispatch_uid="webhooks.subscription_changed"
    )
    signals.opt_in_request_changed.connect(
        on_opt_in_request_changed, dispatch_uid="webhooks.opt_in_request_changed"
    )
    signals.erasure_finished.connect(on_erasure_finished, dispatch_uid="webhooks.erasure_finished")
