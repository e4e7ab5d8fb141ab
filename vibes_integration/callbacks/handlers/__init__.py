"""Apply typed callback events to the CRM, only through ``crm.services``.

Every write is made with ``source=Source.VIBES``: the outbound sync skips such changes,
so nothing learnt from a callback is ever sent back to Vibes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vibes_integration.callbacks.events import (
    CallbackEventData,
    ParticipantEvent,
    PersonEvent,
    SubscriptionEvent,
    SubscriptionListEvent,
    UnknownEvent,
)
from vibes_integration.callbacks.handlers.base import HandlerContext, HandlerResult
from vibes_integration.callbacks.handlers.lists import handle_subscription_list
from vibes_integration.callbacks.handlers.participants import handle_participant
from vibes_integration.callbacks.handlers.persons import handle_person
from vibes_integration.callbacks.handlers.subscriptions import handle_subscription
from vibes_integration.callbacks.models import CallbackStatus

HANDLERS: dict[type, Callable[[Any, HandlerContext], HandlerResult]] = {
    SubscriptionEvent: handle_subscription,
    PersonEvent: handle_person,
    ParticipantEvent: handle_participant,
    SubscriptionListEvent: handle_subscription_list,
}


def handle(event: CallbackEventData, context: HandlerContext) -> HandlerResult:
    if not isinstance(event, SubscriptionEvent):
        context.subscription_lists.clear()
    if isinstance(event, UnknownEvent):
        context.notes.append(
            event.reason
            or f"Callback type {event.envelope.remote_type or '(none)'!r} is not one this "
            "product applies; kept for the record."
        )
        return HandlerResult(status=CallbackStatus.IGNORED)
    if event.envelope.is_test:
        context.notes.append("Vibes marked this a test event; nothing applied.")
        return HandlerResult(status=CallbackStatus.IGNORED)
    return HANDLERS[type(event)](event, context)


__all__ = ["HandlerContext", "HandlerResult", "handle"]
