"""Writes to the callback log: storing a delivery, replaying and resolving events.

``callback_event_store`` is what the request runs: ONE insert, committed on its own (no
transaction around it, no query before it), so that the event is durable before the view
answers 2xx; then it asks ``tasks.schedule_processing`` for a run after that commit (see
``tasks``). If enqueueing fails, the view answers 503: Vibes delivers again, and the repeat
(a duplicate, answered 2xx) schedules processing.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import ipaddress
import logging
from collections.abc import Iterable, Mapping

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Field
from django.utils import timezone

from vibes_integration.callbacks.models import (
    CALLBACK_TYPE_MAX_LENGTH,
    EVENT_ID_MAX_LENGTH,
    CallbackEvent,
    CallbackStatus,
)
from vibes_integration.callbacks.parsing import peek
from vibes_integration.callbacks.storable import body_text, storable_text
from vibes_integration.callbacks.tasks import schedule_processing, schedule_replay

logger = logging.getLogger(__name__)

# The request headers worth keeping as evidence; Authorization never is.
STORED_HEADERS = {
    "CONTENT_TYPE": "Content-Type",
    "CONTENT_LENGTH": "Content-Length",
    "HTTP_USER_AGENT": "User-Agent",
    "HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
    "HTTP_X_FORWARDED_PROTO": "X-Forwarded-Proto",
    "HTTP_X_REQUEST_ID": "X-Request-Id",
    "HTTP_X_AMZN_TRACE_ID": "X-Amzn-Trace-Id",
    "HTTP_VIA": "Via",
}


# What the request writes; every other column starts at its default (see _insert_statement).
STORED_FIELDS = frozenset(
    {
        "event_id",
        "callback_type",
        "body",
        "headers",
        "method",
        "remote_addr",
        "authenticated_as",
        "delivery_attempt",
        "received_at",
        "truncated_from_bytes",
    }
)


def stored_headers(meta: Mapping[str, str]) -> dict[str, str]:
    return {name: str(meta[key])[:500] for key, name in STORED_HEADERS.items() if meta.get(key)}


def event_key(event_id: str | None, body: bytes) -> str:
    """Vibes' event id, or a hash of the body when there is none (or it is too long).

    The hash makes a body Vibes delivers twice without an id count once too. A delivery
    is identified by this key together with its callback type (the table's unique
    constraint): Vibes does not show event ids to be unique across types.
    """
    if event_id and len(event_id) <= EVENT_ID_MAX_LENGTH:
        return event_id
    return "sha256:" + hashlib.sha256(body).hexdigest()


@functools.lru_cache(maxsize=1024)  # a handful of addresses call, again and again
def _valid_ip(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def callback_event_store(
    *,
    body: bytes,
    method: str,
    headers: Mapping[str, str],
    remote_addr: str | None,
    authenticated_as: str,
    truncated_from_bytes: int | None = None,
) -> bool:
    """Store one delivery; True when it is new, False for a duplicate of a stored event.

    ``truncated_from_bytes`` is the size the body had when ``body`` is only its start (it
    was over ``VIBES_CALLBACK_MAX_BODY_BYTES``). Every string is made storable first
    (``storable``), so that no body can make the INSERT fail. Raises ``DatabaseError``
    when the event could not be stored or its processing could not be scheduled.
    """
    peeked = peek(body)
    event_id = storable_text(peeked.event_id) if peeked.event_id else None
    key = event_key(event_id, body)
    values = {  # exactly STORED_FIELDS
        "event_id": key,
        "callback_type": storable_text(peeked.callback_type)[:CALLBACK_TYPE_MAX_LENGTH],
        "body": body_text(body),
        "headers": {name: storable_text(value) for name, value in headers.items()},
        "method": method[:8],
        "remote_addr": _valid_ip(remote_addr),
        "authenticated_as": authenticated_as[:150],
        "delivery_attempt": peeked.delivery_attempt,
        "received_at": timezone.now(),
        "truncated_from_bytes": truncated_from_bytes,
    }
    try:
        _insert(values)
    except IntegrityError:
        _count_duplicate(key, values["callback_type"])
        schedule_processing()
        return False
    schedule_processing()
    return True


def _insert(values: Mapping[str, object]) -> None:
    """One INSERT of a new callback event, every other column at its model default.

    Written out rather than ``objects.create()``: this is the whole cost of a request,
    and the ORM's save machinery (signals, every field's pre-save and SQL compilation)
    would more than double it. Values are still adapted by each field, so the row is
    exactly what ``create()`` would write. The connection is looked up once, not through
    the ``connection`` proxy at every use.
    """
    db = connections[DEFAULT_DB_ALIAS]
    sql, fields = _insert_statement(db.alias)
    params = [field.get_db_prep_save(values[field.name], db) for field in fields]
    if db.in_atomic_block:
        # Inside a caller's transaction: a savepoint keeps a duplicate from breaking it.
        with transaction.atomic(using=db.alias), db.cursor() as cursor:
            cursor.execute(sql, params)
    else:
        with db.cursor() as cursor:  # autocommit: committed when it returns, before the 2xx
            cursor.execute(sql, params)


@functools.cache
def _insert_statement(alias: str) -> tuple[str, tuple[Field, ...]]:
    """The INSERT's SQL and the fields its parameters are for, built once per database.

    The request's values (``STORED_FIELDS``) are parameters. The other NOT NULL columns
    are written as literals of their model defaults, quoted the way migrations quote a
    column default: the same row as parameters would give, without adapting and sending
    ten constant parameters in every request. Nullable columns, NULL until processing
    fills them, are left out: NULL is the database's default for them.
    """
    db = connections[alias]
    fields = [f for f in CallbackEvent._meta.concrete_fields if not f.primary_key]
    given = [f for f in fields if f.name in STORED_FIELDS]
    defaulted = [f for f in fields if f.name not in STORED_FIELDS and not f.null]
    quote = db.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names and model defaults)
        quote(CallbackEvent._meta.db_table),
        ", ".join(quote(field.column) for field in [*given, *defaulted]),
        ", ".join(["%s"] * len(given) + [_default_literal(db, field) for field in defaulted]),
    )
    return sql, tuple(given)


def _default_literal(db: BaseDatabaseWrapper, field: Field) -> str:
    if not (field.has_default() or field.empty_strings_allowed):
        raise ImproperlyConfigured(f"CallbackEvent.{field.name} needs a value or a default.")
    if field.has_default() and callable(field.default) and field.default not in (dict, list):
        raise ImproperlyConfigured(f"CallbackEvent.{field.name}'s default varies per row.")
    value = field.get_db_prep_save(field.get_default(), db)
    literal = db.schema_editor().quote_value(str(value) if isinstance(value, str) else value)
    if "%" in literal:  # would be read as a placeholder; no default has one
        raise ImproperlyConfigured(f"CallbackEvent.{field.name}'s default contains '%'.")
    return literal


def _count_duplicate(key: str, callback_type: str) -> None:
    """Best effort: the event is already stored, so failing to count it loses nothing."""
    try:
        CallbackEvent.objects.filter(event_id=key, callback_type=callback_type).update(
            deliveries=F("deliveries") + 1
        )
    except DatabaseError:
        logger.warning("Could not count a repeated delivery of callback event %s", key)


@transaction.atomic
def callback_event_replay(*, callback_events: Iterable[CallbackEvent]) -> int:
    """Process the events again (after a fix): each gets a fresh task, run by the worker.

    Applying an event twice is harmless: persons and lists are matched, subscriptions
    keep their event dates, and a consent event is written once per callback event.
    """
    count = 0
    for callback_event in callback_events:
        CallbackEvent.objects.filter(pk=callback_event.pk).update(next_attempt_at=None)
        schedule_replay(callback_event.pk)
        count += 1
    return count


#: A "received" event still waiting this long after it arrived is stuck: staff may resolve it.
STUCK_AFTER = datetime.timedelta(minutes=10)


def callback_event_resolvable(callback_event: CallbackEvent, *, now: datetime.datetime) -> bool:
    """Failed, invalid, or stuck: waiting for processing ``STUCK_AFTER`` after arriving."""
    if callback_event.status in {CallbackStatus.FAILED, CallbackStatus.INVALID}:
        return True
    return (
        callback_event.status == CallbackStatus.RECEIVED
        and callback_event.received_at <= now - STUCK_AFTER
    )


@transaction.atomic
def callback_event_resolve(
    *, callback_events: Iterable[CallbackEvent], by: str, note: str = ""
) -> int:
    """Staff dealt with these events by hand: take them off the list of problems.

    Only failed, invalid and stuck events (see ``callback_event_resolvable``) are resolved;
    who, when, the former status and staff's ``note`` are kept in the event's notes.
    """
    now = timezone.now()
    count = 0
    for callback_event in CallbackEvent.objects.select_for_update().filter(
        pk__in=[e.pk for e in callback_events]
    ):
        if not callback_event_resolvable(callback_event, now=now):
            continue
        line = (
            f"Marked resolved by {by} at {now:%Y-%m-%d %H:%M:%S} UTC (was {callback_event.status})."
        )
        if note.strip():
            line = f"{line} Note: {note.strip()}"
        callback_event.notes = [*callback_event.notes, line]
        callback_event.status = CallbackStatus.RESOLVED
        callback_event.next_attempt_at = None
        callback_event.save(update_fields=["status", "notes", "next_attempt_at"])
        count += 1
    return count
