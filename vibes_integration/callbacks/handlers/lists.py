"""``subscription_list_added`` / ``subscription_list_updated``: the list catalogue.

Only the list's name comes from Vibes; its description, disclosure and whether the
preference center offers it are the brand's, set by staff. A list Vibes announces first
is created hidden from subscribers until staff give it a disclosure.
"""

from __future__ import annotations

from crm import services
from crm.choices import Source
from vibes_integration.callbacks.events import SubscriptionListEvent
from vibes_integration.callbacks.handlers.base import HandlerContext, HandlerResult
from vibes_integration.callbacks.matching import subscription_list_resolve
from vibes_integration.callbacks.models import CallbackStatus
from vibes_integration.callbacks.watermarks import (
    is_stale,
    list_subject,
    watermark_advance,
    watermark_lock,
)

_NAME_MAX_LENGTH = 200


def handle_subscription_list(
    event: SubscriptionListEvent, context: HandlerContext
) -> HandlerResult:
    watermark = watermark_lock(list_subject(event.list_id))
    if is_stale(watermark, context.event_date):
        subscription_list, _ = subscription_list_resolve(event.list_id)
        return HandlerResult(status=CallbackStatus.STALE, subscription_list=subscription_list)
    values = {}
    if event.name:
        values["name"] = event.name[:_NAME_MAX_LENGTH]
    subscription_list, _ = services.subscription_list_upsert(
        list_id=event.list_id, source=Source.VIBES, **values
    )
    watermark_advance(watermark, context.event_date, context.callback_event)
    return HandlerResult(status=CallbackStatus.PROCESSED, subscription_list=subscription_list)
