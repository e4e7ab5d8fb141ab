"""The only writers of the webhooks' models: endpoints, publishing events, replays.

Keyword-only functions named ``<thing>_<action>``, each in one transaction; the admin
and the JSON API call them. Publishing runs in the caller's transaction (a ``crm``
service's), so an event exists exactly when the change it announces was committed.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prefcenter.conf import setting
from prefcenter.webhooks import payloads, selectors, signing, tasks
from prefcenter.webhooks.choices import DeliveryState, EventType
from prefcenter.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint and its new secret, in clear once: shown to staff, then never again."""

    endpoint: WebhookEndpoint
    secret: str


def clean_url(url: str) -> str:
    url = (url or "").strip()
    schemes = ["https"] if getattr(settings, "PRODUCTION", False) else ["http", "https"]
    try:
        URLValidator(schemes=schemes)(url)
    except ValidationError as exc:
        message = _("Enter a full URL starting with %(schemes)s.") % {
            "schemes": _(" or ").join(f"{scheme}://" for scheme in schemes)
        }
        raise ValidationError({"url": message}) from exc
    return url


def clean_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = [str(event_type) for event_type in event_types or []]
    unknown = sorted(set(chosen) - set(EventType.values))
    if unknown:
        raise ValidationError(
            {"event_types": _("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}}
        )
    if not chosen:
        raise ValidationError({"event_types": _("Choose at least one event type.")})
    return [value for value in EventType.values if value in chosen]


@transaction.atomic
def endpoint_create(
    *, url: str, event_types: Iterable[str], description: str = ""
) -> EndpointWithSecret:
    endpoint = WebhookEndpoint(
        url=clean_url(url),
        event_types=clean_event_types(event_types),
        description=(description or "").strip()[:300],
        secret=signing.secret_generate(),
    )
    endpoint.save()
    selectors.forget_endpoints()
    return EndpointWithSecret(endpoint=endpoint, secret=endpoint.secret)


@transaction.atomic
def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    """Change what is given; deliveries already written keep going to the endpoint."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if url is not None:
        endpoint.url = clean_url(url)
    if event_types is not None:
        endpoint.event_types = clean_event_types(event_types)
    if description is not None:
        endpoint.description = description.strip()[:300]
    endpoint.save()
    selectors.forget_endpoints()
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> EndpointWithSecret:
    """A new secret signs from now on; the one it replaces keeps signing beside it for
    ``WEBHOOK_SECRET_GRACE_HOURS``, so the receiver can switch without losing events."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    grace = datetime.timedelta(hours=setting("WEBHOOK_SECRET_GRACE_HOURS"))
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + grace
    endpoint.secret = signing.secret_generate()
    endpoint.save()
    return EndpointWithSecret(endpoint=endpoint, secret=endpoint.secret)


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint with its pending deliveries and their log; to keep the log and
    stop sending, pause it instead."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
    selectors.forget_endpoints()


@transaction.atomic
def endpoint_pause(*, endpoint: WebhookEndpoint, reason: str) -> bool:
    """Hold deliveries to the endpoint (they stay pending); False when already paused."""
    paused = WebhookEndpoint.objects.filter(pk=endpoint.pk, paused_at__isnull=True).update(
        paused_at=timezone.now(), paused_reason=(reason or "").strip()[:500]
    )
    endpoint.refresh_from_db()
    return bool(paused)


@transaction.atomic
def endpoint_resume(*, endpoint: WebhookEndpoint) -> int:
    """Send again: the failure counters start afresh and every held delivery is due now.
    Answers how many deliveries were waiting."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        paused_at=None, paused_reason="", consecutive_failures=0, failing_since=None
    )
    waiting = WebhookDelivery.objects.filter(
        endpoint_id=endpoint.pk, state=DeliveryState.PENDING
    ).update(next_attempt_at=now, leased_until=None)
    endpoint.refresh_from_db()
    tasks.nudge_on_commit()
    return waiting


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def event_publish(
    *, event_type: EventType | str, data: dict[str, Any], at: datetime.datetime | None = None
) -> WebhookMessage | None:
    """Write the event and a delivery for each endpoint subscribed to its type, in the
    caller's transaction; the worker is nudged once that transaction commits. Answers
    None (and writes nothing) when no endpoint wants the event."""
    event_type = EventType(event_type)
    endpoints = [e for e in selectors.endpoints_in_transaction() if e.subscribes_to(event_type)]
    if not endpoints:
        return None
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        message = WebhookMessage.objects.create(
            message_id=_message_id(),
            event_type=event_type,
            payload=payloads.envelope(event_type=event_type, data=data, at=at or now),
            created_at=now,
        )
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(endpoint=endpoint, message=message, next_attempt_at=now)
                for endpoint in endpoints
            ]
        )
    tasks.nudge_on_commit()
    return message


@transaction.atomic
def message_replay(
    *, message: WebhookMessage, endpoints: Iterable[WebhookEndpoint] | None = None
) -> list[WebhookDelivery]:
    """Send an event again, with the same ``webhook-id``, to ``endpoints`` (by default
    every endpoint it was delivered to before). A paused endpoint gets it on resume."""
    if endpoints is None:
        endpoints = WebhookEndpoint.objects.filter(deliveries__message=message).distinct()
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=endpoint, message=message, next_attempt_at=now, replay=True)
            for endpoint in endpoints
        ]
    )
    tasks.nudge_on_commit()
    return deliveries
