"""What each event says: ids and facts, no more.

Receivers get the identifiers to look a person up in their own systems (our id, the
external id, Vibes' person key), the list, the reason and the time. Names, e-mail
addresses and custom field values are not sent (``person.changed`` names the fields that
changed, not their values). The mobile number is masked unless ``WEBHOOK_FULL_MDN`` is on.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from crm.models import OptInRequest, Person, Subscription, SubscriptionList
from crm.phone import mask_mdn, mdn_text
from prefcenter.conf import setting


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys in a stable order."""
    return json.dumps(
        payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True, ensure_ascii=False
    ).encode("utf-8")


def envelope(*, event_type: str, data: dict[str, Any], at: datetime.datetime) -> dict[str, Any]:
    """The Standard Webhooks payload shape: ``type``, ``timestamp`` and ``data``."""
    return {"type": str(event_type), "timestamp": _iso(at), "data": data}


def _iso(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def person_facts(person: Person) -> dict[str, Any]:
    number = mdn_text(person.mdn) if setting("WEBHOOK_FULL_MDN") else mask_mdn(person.mdn)
    return {
        "id": person.pk,
        "external_person_id": person.external_person_id or None,
        "person_key": person.person_key or None,
        "mdn": number or None,
    }


def list_facts(subscription_list: SubscriptionList) -> dict[str, Any]:
    return {"list_id": subscription_list.list_id, "name": subscription_list.name}


def person_changed_data(
    *, person: Person, created: bool, changed_fields: Iterable[str], source: str
) -> dict[str, Any]:
    return {
        "person": person_facts(person),
        "created": bool(created),
        "changed_fields": sorted(str(name) for name in changed_fields),
        "source": str(source),
    }


def subscribed_data(*, subscription: Subscription, source: str) -> dict[str, Any]:
    return {
        "person": person_facts(subscription.person),
        "subscription_list": list_facts(subscription.subscription_list),
        "opted_in_at": _iso(subscription.opt_in_date),
        "source": str(source),
    }


def opted_out_data(*, subscription: Subscription, source: str) -> dict[str, Any]:
    return {
        "person": person_facts(subscription.person),
        "subscription_list": list_facts(subscription.subscription_list),
        "reason": subscription.opt_out_reason or None,
        "opted_out_at": _iso(subscription.opt_out_date),
        "source": str(source),
    }


def opt_in_data(*, opt_in_request: OptInRequest, source: str) -> dict[str, Any]:
    return {
        "person": person_facts(opt_in_request.person),
        "subscription_list": list_facts(opt_in_request.subscription_list),
        "opt_in_request": {"id": opt_in_request.pk, "status": opt_in_request.status},
        "at": _iso(opt_in_request.updated_at),
        "source": str(source),
    }
