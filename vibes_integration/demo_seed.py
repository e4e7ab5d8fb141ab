"""Gives the local Vibes sandbox the same demo the CRM just loaded, so both are one world.

In a real deployment Vibes holds the subscriptions and the CRM learns them; the demo
invents both sides at once. The persons just created (with the keys Vibes would know
them by), their subscriptions with their dates and reasons, and their web opt-ins are
posted to the sandbox's ``/_sandbox/import`` (which stores them without callbacks), and
the outbound work the loading queued for them is settled: the sandbox already holds it.
Any failure raises ``SandboxSeedError`` inside the loading transaction, so the CRM keeps
nothing the sandbox does not have either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests

from crm import services
from crm.choices import OptInStatus, Source, SubscriptionState
from crm.models import OptInRequest, Person, Subscription
from prefcenter.conf import setting
from vibes_integration.sync.payloads import synced_custom_fields, update_person_payload
from vibes_integration.sync.services import operations_settle_seeded

IMPORT_PATH = "/_sandbox/import"
TIMEOUT_SECONDS = 30

PARTICIPANT_STATUS = {
    OptInStatus.REQUESTED: "PENDING",
    OptInStatus.PENDING: "PENDING",
    OptInStatus.CONFIRMED: "CONFIRMED",
    OptInStatus.REJECTED: "REJECTED",
    OptInStatus.EXPIRED: "EXPIRED",
}


class SandboxSeedError(Exception):
    """The sandbox could not take the demo; the message says why."""


def sandbox_seed(*, persons: Iterable[Person], sandbox_url: str) -> dict[str, int]:
    """Post ``persons`` to the sandbox at ``sandbox_url``; answer the sandbox's counts."""
    persons = list(persons)
    if not persons:
        return {"persons": 0}
    body = {"persons": _import_body(persons)}
    answer = _post(sandbox_url.rstrip("/") + IMPORT_PATH, body)
    for person in persons:
        # Vibes now holds their external id: the sync may name them by it.
        services.person_update(person=person, external_id_in_vibes=True, source=Source.VIBES)
    operations_settle_seeded(
        person_ids=[person.pk for person in persons],
        note="The demo gave this state to the sandbox directly.",
    )
    return answer


def _import_body(persons: list[Person]) -> list[dict[str, Any]]:
    definitions = synced_custom_fields()
    field_map = setting("VIBES_SYNC_PERSON_FIELDS")
    ids = [person.pk for person in persons]
    subscriptions: dict[int, list[dict[str, Any]]] = {}
    for subscription in Subscription.objects.filter(
        person_id__in=ids,
        state__in=(SubscriptionState.SUBSCRIBED, SubscriptionState.UNSUBSCRIBED),
        opt_in_date__isnull=False,
    ).select_related("subscription_list"):
        left = subscription.state == SubscriptionState.UNSUBSCRIBED
        subscriptions.setdefault(subscription.person_id, []).append(
            {
                "list_id": subscription.subscription_list.list_id,
                "acquisition_campaign_id": subscription.subscription_list.acquisition_campaign_id,
                "opt_in_date": _iso(subscription.opt_in_date),
                "opt_out_date": _iso(subscription.opt_out_date or subscription.event_date)
                if left
                else None,
                "opt_out_reason": (subscription.opt_out_reason or "user_opt_out") if left else None,
            }
        )
    participants: dict[int, list[dict[str, Any]]] = {}
    for request in OptInRequest.objects.filter(person_id__in=ids).select_related(
        "subscription_list"
    ):
        participants.setdefault(request.person_id, []).append(
            {
                "list_id": request.subscription_list.list_id,
                "mdn": str(request.mdn),
                "status": PARTICIPANT_STATUS[request.status],
                "participation_date": _iso(request.requested_at),
                "expire_date": _iso(request.expire_date),
            }
        )
    body = []
    for person in persons:
        payload = update_person_payload(person, definitions=definitions, field_map=field_map)
        body.append(
            {
                "person_key": person.person_key,
                "external_person_id": person.external_person_id,
                "mdn": str(person.mdn) if person.mdn else None,
                "custom_fields": payload["custom_fields"],
                "created_at": _iso(person.created_at),
                "subscriptions": subscriptions.get(person.pk, []),
                "participants": participants.get(person.pk, []),
            }
        )
    return body


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _post(url: str, body: dict[str, Any]) -> dict[str, int]:
    try:
        response = requests.post(url, json=body, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise SandboxSeedError(f"the sandbox at {url} could not be reached: {exc}") from exc
    if response.status_code != 200:
        raise SandboxSeedError(
            f"the sandbox at {url} refused the demo ({response.status_code}): {response.text[:500]}"
        )
    try:
        return response.json()
    except ValueError as exc:
        raise SandboxSeedError(f"the sandbox at {url} answered no JSON: {exc}") from exc
