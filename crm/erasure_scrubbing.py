"""Blanks what other tables hold about a person being erased.

Each scrubber finds the rows that name the person (by foreign key, by Vibes' person key,
or by the number, email or external id inside raw text) and blanks their personal
content, keeping the row itself: the callback log still shows that an event came and what
it did, the call log that a call was made. Models are looked up through the app registry
so the CRM depends on no other app; an app that is not installed is skipped. A new table
that stores personal data must get a scrubber here (``tests/privacy`` searches every text
column after an erasure, so a forgotten one fails the test).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from crm.models import Person

ERASED_TEXT = "[erased]"
# What an erasure blanks in a line of Vibes' callback log: the stored request and every
# identifier copied from it (the log keeps that an event came and what it did). Used here
# and when a callback about an already erased person is stored.
CALLBACK_EVENT_BLANKS: dict[str, Any] = {
    "body": "",
    "payload": None,
    "headers": {},
    "mdn": "",
    "external_person_id": "",
    "error": "",
    "traceback": "",
}


def number_forms(mdn: str) -> list[str]:
    """The ways a number appears in raw text: E.164, the digits without +, and the
    national digits (Vibes' version 1)."""
    if not mdn:
        return []
    digits = mdn.lstrip("+")
    forms = [mdn, digits]
    if mdn.startswith("+1") and len(digits) == 11:
        forms.append(digits[1:])
    return forms


def _needles(identity: dict[str, str]) -> list[str]:
    values = [*number_forms(identity.get("mdn", "")), identity.get("email", "")]
    values.append(identity.get("external_person_id", ""))
    values.append(identity.get("full_name", ""))
    return [value for value in values if value and len(value) >= 4]


def _any_contains(field: str, needles: Iterable[str]) -> Q:
    query = Q(pk__in=[])
    for needle in needles:
        query |= Q(**{f"{field}__contains": needle})
    return query


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def scrub_callbacks(person: Person, identity: dict[str, str], needles: list[str]) -> None:
    model = _model("vibes_callbacks.CallbackEvent")
    if model is None:
        return
    match = Q(person=person) | _any_contains("body", needles)
    if identity.get("person_key"):
        match |= Q(person_key=identity["person_key"])
    if identity.get("mdn"):
        match |= Q(mdn__in=number_forms(identity["mdn"]))
    model.objects.filter(match).update(**CALLBACK_EVENT_BLANKS, notes=[])


def scrub_sync(person: Person, identity: dict[str, str], needles: list[str]) -> None:
    operation = _model("vibes_sync.Operation")
    call = _model("vibes_sync.OutboundCall")
    if operation is not None:
        operation.objects.filter(person=person).exclude(error="").update(error="")
    if call is not None:
        call.objects.filter(Q(person=person) | _any_contains("error", needles)).exclude(
            error=""
        ).update(error="")


def scrub_webhooks(person: Person, identity: dict[str, str], needles: list[str]) -> None:
    message = _model("webhooks.WebhookMessage")
    if message is None:
        return
    found = message.objects.annotate(text=Cast("payload", TextField())).filter(
        _any_contains("text", needles)
    )
    for row in found.only("pk", "payload"):
        payload: dict[str, Any] = dict(row.payload or {})
        payload["data"] = {"erased": True}
        message.objects.filter(pk=row.pk).update(payload=payload)
    attempt = _model("webhooks.WebhookAttempt")
    if attempt is not None:
        # What the brand's endpoint answered may echo the event back.
        attempt.objects.filter(_any_contains("response_excerpt", needles)).update(
            response_excerpt=ERASED_TEXT
        )


def scrub_api(person: Person, identity: dict[str, str], needles: list[str]) -> None:
    """Stored answers replayed to API retries: those that name the person are emptied."""
    record = _model("prefcenter_api.IdempotencyRecord")
    if record is None:
        return
    encoded = [needle.encode() for needle in needles]
    encoded += [json.dumps(needle)[1:-1].encode() for needle in needles]
    since = person.created_at
    for row in record.objects.filter(created_at__gte=since).only("pk", "body").iterator():
        body = bytes(row.body or b"")
        if any(needle in body for needle in encoded):
            record.objects.filter(pk=row.pk).update(body=json.dumps({"erased": True}).encode())


def scrub_admin_log(person: Person, identity: dict[str, str], needles: list[str]) -> None:
    entry = _model("admin.LogEntry")
    if entry is None:
        return
    entry.objects.filter(_any_contains("object_repr", needles)).update(object_repr=ERASED_TEXT)
    entry.objects.filter(_any_contains("change_message", needles)).update(change_message="")


SCRUBBERS = (scrub_callbacks, scrub_sync, scrub_webhooks, scrub_api, scrub_admin_log)


def scrub_everywhere(*, person: Person, identity: dict[str, str]) -> None:
    needles = _needles(identity)
    for scrubber in SCRUBBERS:
        scrubber(person, identity, needles)
