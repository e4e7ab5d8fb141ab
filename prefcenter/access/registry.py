"""What an access export holds: one section per table that holds something about a person.

Every table that references a person must be named here, either as a ``Section`` (its rows
about the person are exported) or in ``NOT_EXPORTED`` with the reason. Tables that point at
the person without a foreign key (by Vibes' person key, the external id, the number, or an
id inside a JSON document) are listed in ``NON_FK_REFERENCES``, so that the completeness
test (tests/access/test_completeness.py), which walks the foreign keys, also walks those.

Left out of every section: secrets (the link secret, API keys, webhook secrets), the
headers and addresses of Vibes' requests (credentials), staff user names, and workers'
internal bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django_tasks_db.models import DBTaskResult

from crm.models import (
    LEDGER_FIELDS,
    ConsentEvent,
    CustomField,
    NumberChange,
    OptInRequest,
    Person,
    Subscription,
)
from crm.phone import mdn_text
from prefcenter.access.models import AccessRequest
from prefcenter.webhooks.models import WebhookMessage
from vibes_integration.callbacks.models import CallbackEvent
from vibes_integration.sync.models import Operation, OutboundCall

CHUNK = 500


@dataclass(frozen=True)
class Section:
    """One table of the export: a CSV file in the zip, a list in the JSON document."""

    name: str
    model: type[models.Model]
    columns: tuple[str, ...]
    rows: Callable[[Person], Iterator[dict[str, Any]]]
    about: str


def _values(queryset: QuerySet, columns: tuple[str, ...], **renamed: str) -> Iterator[dict]:
    """Rows of ``queryset`` as dicts, oldest first, from a server-side cursor."""
    lookups = [renamed.get(column, column) for column in columns]
    for row in queryset.order_by("pk").values_list(*lookups).iterator(chunk_size=CHUNK):
        yield dict(zip(columns, row, strict=True))


PERSON_COLUMNS = (
    "id",
    "external_person_id",
    "person_key",
    "vibes_person_id",
    "mdn",
    "carrier_code",
    "first_name",
    "last_name",
    "email",
    "created_at",
    "updated_at",
)


def _person(person: Person) -> Iterator[dict[str, Any]]:
    return _values(Person.objects.filter(pk=person.pk), PERSON_COLUMNS)


def _custom_fields(person: Person) -> Iterator[dict[str, Any]]:
    labels = dict(CustomField.objects.values_list("key", "label"))
    for key, value in sorted((person.custom_fields or {}).items()):
        yield {"key": key, "label": labels.get(key, ""), "value": value}


SUBSCRIPTION_COLUMNS = (
    "list_id",
    "list_name",
    "state",
    "source",
    "opt_in_date",
    "opt_out_date",
    "opt_out_reason",
    "event_date",
    "created_at",
    "updated_at",
)


def _subscriptions(person: Person) -> Iterator[dict[str, Any]]:
    return _values(
        Subscription.objects.filter(person=person),
        SUBSCRIPTION_COLUMNS,
        list_id="subscription_list__list_id",
        list_name="subscription_list__name",
    )


CONSENT_COLUMNS = ("id", "list_id", "list_name", *LEDGER_FIELDS)


NUMBER_CHANGE_COLUMNS = (
    "id",
    "old_mdn",
    "new_mdn",
    "old_list_ids",
    "status",
    "source",
    "created_at",
    "settled_at",
)


def _number_changes(person: Person) -> Iterator[dict[str, Any]]:
    # Only the person's own changes: one that conflicted with this person's number was
    # another subscriber's request.
    return _values(NumberChange.objects.filter(person=person), NUMBER_CHANGE_COLUMNS)


def _consent_events(person: Person) -> Iterator[dict[str, Any]]:
    return _values(
        ConsentEvent.objects.filter(person=person),
        CONSENT_COLUMNS,
        list_id="subscription_list__list_id",
        list_name="subscription_list__name",
    )


OPT_IN_COLUMNS = (
    "id",
    "list_id",
    "mdn",
    "status",
    "source",
    "message",
    "error_code",
    "expire_date",
    "requested_at",
    "updated_at",
)


def _opt_in_requests(person: Person) -> Iterator[dict[str, Any]]:
    return _values(
        OptInRequest.objects.filter(person=person),
        OPT_IN_COLUMNS,
        list_id="subscription_list__list_id",
    )


OPERATION_COLUMNS = (
    "id",
    "kind",
    "list_id",
    "opt_in_request_id",
    "remove_mdn",
    "source",
    "status",
    "attempts",
    "http_status",
    "error",
    "error_codes",
    "created_at",
    "finished_at",
)


def _operations(person: Person) -> Iterator[dict[str, Any]]:
    return _values(
        Operation.objects.filter(person=person),
        OPERATION_COLUMNS,
        list_id="subscription_list__list_id",
    )


CALL_COLUMNS = ("id", "operation_id", "action", "http_status", "ok", "error", "made_at")


def _calls(person: Person) -> Iterator[dict[str, Any]]:
    calls = OutboundCall.objects.filter(Q(person=person) | Q(operation__person=person))
    return _values(calls, CALL_COLUMNS)


CALLBACK_COLUMNS = (
    "event_id",
    "callback_type",
    "status",
    "received_at",
    "event_date",
    "processed_at",
    "person_key",
    "external_person_id",
    "mdn",
    "list_id",
    "body",
    "payload",
    "notes",
)


def callbacks_about(person: Person) -> QuerySet[CallbackEvent]:
    """Callbacks linked to the person, or naming one of their identifiers (a callback that
    failed before it was linked still names them)."""
    about = Q(person=person) | Q(external_person_id=person.external_person_id)
    if person.person_key:
        about |= Q(person_key=person.person_key)
    if person.mdn:
        about |= Q(mdn=mdn_text(person.mdn))
    return CallbackEvent.objects.filter(about)


def _callbacks(person: Person) -> Iterator[dict[str, Any]]:
    return _values(callbacks_about(person), CALLBACK_COLUMNS)


WEBHOOK_COLUMNS = ("message_id", "event_type", "created_at", "payload")


def _webhook_messages(person: Person) -> Iterator[dict[str, Any]]:
    return _values(
        WebhookMessage.objects.filter(payload__data__person__id=person.pk), WEBHOOK_COLUMNS
    )


STAFF_CHANGE_COLUMNS = ("action_time", "action_flag", "change_message")


def _staff_changes(person: Person) -> Iterator[dict[str, Any]]:
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Person), object_id=str(person.pk)
    )
    return _values(entries, STAFF_CHANGE_COLUMNS)


TASK_COLUMNS = ("task_path", "status", "enqueued_at", "finished_at")
#: Queued work whose argument is the person: their id, or their email address.
TASKS_BY_PERSON_ID = ("prefcenter.preferences.tasks.email_link_to_person",)
TASKS_BY_EMAIL = ("prefcenter.preferences.tasks.email_links_for_address",)


def _queued_work(person: Person) -> Iterator[dict[str, Any]]:
    about = Q(task_path__in=TASKS_BY_PERSON_ID, args_kwargs__args__0=person.pk)
    if person.email:
        about |= Q(task_path__in=TASKS_BY_EMAIL, args_kwargs__args__0=person.email)
    return _values(DBTaskResult.objects.filter(about), TASK_COLUMNS)


ACCESS_COLUMNS = ("public_id", "channel", "received_at", "completed_at", "downloads")


def _access_requests(person: Person) -> Iterator[dict[str, Any]]:
    return _values(AccessRequest.objects.filter(person=person), ACCESS_COLUMNS)


SECTIONS: tuple[Section, ...] = (
    Section("person", Person, PERSON_COLUMNS, _person, "The person's fields."),
    Section(
        "custom_fields",
        CustomField,
        ("key", "label", "value"),
        _custom_fields,
        "The person's custom field values, with the field's label.",
    ),
    Section(
        "subscriptions",
        Subscription,
        SUBSCRIPTION_COLUMNS,
        _subscriptions,
        "Each list and the person's state on it; its history is the consent ledger.",
    ),
    Section(
        "consent_events",
        ConsentEvent,
        CONSENT_COLUMNS,
        _consent_events,
        "The consent ledger: every opt-in and opt-out, with the disclosure shown.",
    ),
    Section(
        "opt_in_requests",
        OptInRequest,
        OPT_IN_COLUMNS,
        _opt_in_requests,
        "Web double opt-ins (confirmation texts) asked for the person.",
    ),
    Section(
        "vibes_operations",
        Operation,
        OPERATION_COLUMNS,
        _operations,
        "What the CRM had to tell Vibes about the person.",
    ),
    Section(
        "vibes_calls",
        OutboundCall,
        CALL_COLUMNS,
        _calls,
        "The calls made to Vibes about the person.",
    ),
    Section(
        "vibes_callbacks",
        CallbackEvent,
        CALLBACK_COLUMNS,
        _callbacks,
        "What Vibes told the CRM about the person (request headers left out).",
    ),
    Section(
        "webhook_events",
        WebhookMessage,
        WEBHOOK_COLUMNS,
        _webhook_messages,
        "Events about the person sent to the brand's own systems.",
    ),
    Section(
        "staff_changes",
        LogEntry,
        STAFF_CHANGE_COLUMNS,
        _staff_changes,
        "Changes staff made to the person in the admin (who made them is left out).",
    ),
    Section(
        "queued_work",
        DBTaskResult,
        TASK_COLUMNS,
        _queued_work,
        "Work queued about the person, such as an email with their preference link.",
    ),
    Section(
        "number_changes",
        NumberChange,
        NUMBER_CHANGE_COLUMNS,
        _number_changes,
        "The person's changes of number: the old and the new number, and how each ended.",
    ),
    Section(
        "access_requests",
        AccessRequest,
        ACCESS_COLUMNS,
        _access_requests,
        "The person's requests for this export.",
    ),
)

NON_FK_REFERENCES: dict[str, tuple[str, ...]] = {
    "vibes_callbacks.CallbackEvent": ("person_key", "external_person_id", "mdn"),
    "vibes_callbacks.CallbackWatermark": ("subject",),
    "webhooks.WebhookMessage": ("payload",),
    "admin.LogEntry": ("object_id",),
    "django_tasks_database.DBTaskResult": ("args_kwargs",),
}
"""Tables that name a person without a foreign key to ``crm.Person``, by model label, with
the columns that do. The completeness test walks them like foreign keys."""

NOT_EXPORTED: dict[str, str] = {
    "crm.ErasureRequest": (
        "The record that a person's data was erased: it holds keyed hashes and dates only, and "
        "its person has no personal data left to export."
    ),
    "vibes_callbacks.CallbackWatermark": (
        "Ordering state of the callback receiver (when the newest applied event happened); "
        "the events themselves are in vibes_callbacks."
    ),
    "webhooks.WebhookDelivery": (
        "Delivery state of an event to one of the brand's endpoints; the event is in "
        "webhook_events."
    ),
    "webhooks.WebhookAttempt": "One HTTP request of a webhook delivery (the brand's endpoint).",
}
"""Tables that reference a person but hold nothing about them beyond the sections above."""


def covered_labels() -> set[str]:
    return {section.model._meta.label for section in SECTIONS} | set(NOT_EXPORTED)
